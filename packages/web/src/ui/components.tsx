// The small pieces every screen uses: a relative time that stays current, status badges,
// API errors with their validation issues, a copy button, the page header and the list table.
import { type ReactNode, useEffect, useState } from "react";
import { ApiError } from "../api/client.ts";
import { formatAgo, formatExact } from "./time.ts";

/** One shared re-render tick per component for relative times (a display clock, not polling the API). */
export function useNow(intervalMs = 5_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function TimeAgo({ at }: { at: string | null }) {
  const now = useNow();
  return (
    <time dateTime={at ?? undefined} title={formatExact(at)}>
      {formatAgo(at, now)}
    </time>
  );
}

export type Tone = "ok" | "bad" | "warn" | "idle";

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** An error as the user can act on it: the API's message, and each invalid field at its path. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (error == null) return null;
  const message = error instanceof Error ? error.message : String(error);
  const issues = error instanceof ApiError ? error.issues : [];
  return (
    <div className="error-box" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {message}
      {issues.length > 0 ? (
        <ul aria-label="Problems">
          {issues.map((issue, index) => (
            <li key={index}>
              <code>{issue.path || "(top level)"}</code> {issue.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2_000);
    } catch {
      // No clipboard (plain http on another host): the text is selectable next to the button.
      setCopied(false);
    }
  };
  return (
    <button type="button" onClick={() => void copy()} aria-live="polite">
      {copied ? "Copied" : label}
    </button>
  );
}

/** A secret or command shown in full, selectable, with a copy button. */
export function CopyableText({ text, label }: { text: string; label: string }) {
  return (
    <div className="secret">
      <pre aria-label={label}>{text}</pre>
      <CopyButton text={text} label={`Copy ${label.toLowerCase()}`} />
    </div>
  );
}

export function PageHead({ title, sub, actions }: { title: ReactNode; sub?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1>{title}</h1>
        {sub ? <p className="sub">{sub}</p> : null}
      </div>
      {actions ? <div className="actions">{actions}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

/** A list table's header row: its columns, and (unless `actions` is false) an unnamed last one, named for screen readers, for row actions. */
export function ListHead({ columns, actions = true }: { columns: readonly string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th scope="col" key={column}>
            {column}
          </th>
        ))}
        {actions ? (
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}

export interface ListTableProps<T> {
  /** Plural, for "Loading …". */
  what: string;
  pending: boolean;
  /** The list's error, or an action's on it (a delete that failed). */
  error: unknown;
  errorTitle: string;
  /** Undefined until loaded. */
  items: readonly T[] | undefined;
  /** Shown when the loaded list is empty (nothing when absent). */
  empty?: ReactNode;
  label: string;
  columns: readonly string[];
  /** Whether rows end with an actions cell (default true). */
  actions?: boolean;
  /** One `<tr>` (with its key) per item. */
  row: (item: T) => ReactNode;
}

/** A list screen's body, as every list shows it: loading, the error, the empty notice, the table. */
export function ListTable<T>({ what, pending, error, errorTitle, items, empty, label, columns, actions, row }: ListTableProps<T>) {
  return (
    <>
      {pending ? <Loading what={what} /> : null}
      <ErrorMessage error={error} title={errorTitle} />
      {items && items.length === 0 && empty ? <div className="notice">{empty}</div> : null}
      {items && items.length > 0 ? (
        <table className="list" aria-label={label}>
          <ListHead columns={columns} actions={actions} />
          <tbody>{items.map(row)}</tbody>
        </table>
      ) : null}
    </>
  );
}
