// The check editor, for a new check and an existing one: a form per type and a YAML tab over one
// definition (check-form-model.ts keeps them in step), "test before save" (POST /checks/test
// runs the unsaved definition once and shows what the probe saw), and the API's problems shown
// at the fields their paths name.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useId, useState } from "react";
import { ApiError, api, type Check, type PingToken } from "../../../api/client.ts";
import { ErrorMessage } from "../../../ui/components.tsx";
import { satellitesQuery } from "../../satellites/satellites-page.tsx";
import {
  applyForm,
  CHECK_TYPES,
  type CheckForm,
  DNS_RECORD_TYPES,
  type Draft,
  fieldsOf,
  type FormField,
  formOf,
  fromYaml,
  HTTP_METHODS,
  issuesByField,
  toYaml,
} from "./check-form-model.ts";
import { invalidateChecks } from "../list/checks-query.ts";
import { ProbeOutcome } from "../probe-result.tsx";
import { formatSeconds, HEARTBEAT, HEARTBEAT_GRACE_SECONDS, HEARTBEAT_PERIOD_SECONDS } from "../check-types.ts";
import { PingUrl } from "../heartbeat-ping.tsx";

interface FieldSpec {
  label: string;
  kind: "text" | "number" | "select" | "checkbox" | "textarea";
  options?: readonly string[];
  placeholder?: string;
  hint?: string;
}

const FIELDS: Record<FormField, FieldSpec> = {
  type: { label: "Type", kind: "select", options: CHECK_TYPES },
  name: { label: "Name", kind: "text", placeholder: "api health" },
  description: { label: "Description (optional)", kind: "text" },
  enabled: { label: "Enabled", kind: "checkbox" },
  intervalSeconds: { label: "Interval (s)", kind: "number", placeholder: "60" },
  timeoutMs: { label: "Timeout (ms)", kind: "number", placeholder: "10000" },
  url: { label: "URL", kind: "text", placeholder: "https://example.com/health" },
  method: { label: "Method", kind: "select", options: HTTP_METHODS },
  expectStatus: { label: "Expected status", kind: "text", placeholder: "2xx", hint: "codes, classes or ranges: 200, 3xx, 200-299" },
  followRedirects: { label: "Follow redirects", kind: "checkbox" },
  host: { label: "Host", kind: "text", placeholder: "db.internal" },
  port: { label: "Port", kind: "number" },
  tls: { label: "Wrap in TLS", kind: "checkbox" },
  send: { label: "Send (optional)", kind: "text" },
  expect: { label: "Expect in the response (optional)", kind: "text" },
  queryName: { label: "Name to resolve", kind: "text", placeholder: "example.com" },
  recordType: { label: "Record type", kind: "select", options: DNS_RECORD_TYPES },
  server: { label: "Resolver (optional)", kind: "text", placeholder: "1.1.1.1" },
  protocol: { label: "Protocol", kind: "select", options: ["udp", "tcp"] },
  warnDays: { label: "Degraded below (days)", kind: "number", placeholder: "14" },
  failDays: { label: "Down below (days)", kind: "number", placeholder: "7" },
  periodSeconds: {
    label: "Expect a ping every (s)",
    kind: "number",
    placeholder: String(HEARTBEAT_PERIOD_SECONDS.default),
    hint: `${HEARTBEAT_PERIOD_SECONDS.min} s to ${formatSeconds(HEARTBEAT_PERIOD_SECONDS.max)}; 3600 = hourly, 86400 = daily`,
  },
  graceSeconds: {
    label: "Grace (s)",
    kind: "number",
    placeholder: String(HEARTBEAT_GRACE_SECONDS.default),
    hint: `how late a ping may be: 0 s to ${formatSeconds(HEARTBEAT_GRACE_SECONDS.max)}`,
  },
  labels: { label: "Labels", kind: "text", placeholder: "env=prod, team=web" },
  runOnCore: { label: "Run on the core", kind: "checkbox" },
  satelliteRegions: { label: "Also on satellites in regions", kind: "text", placeholder: "eu-central, us-east" },
  failuresToUnhealthy: { label: "Failures before unhealthy", kind: "number", placeholder: "3" },
  successesToRecover: { label: "Successes to recover", kind: "number", placeholder: "2" },
};

export interface CheckEditorProps {
  initial: Draft;
  /** Editing a stored check: its id and the revision read (a save over a newer one is refused). */
  stored?: { id: string; revision: number };
  /** After a save (the caller goes to the check). */
  onSaved: (check: Check) => void;
}

type Tab = "form" | "yaml";

export function CheckEditor({ initial, stored, onSaved }: CheckEditorProps) {
  const queryClient = useQueryClient();
  const formId = useId();
  const [tab, setTab] = useState<Tab>("form");
  // The form edits `base` (only the fields changed are written back); the YAML tab replaces it.
  const [base, setBase] = useState<Draft>(initial);
  const [form, setForm] = useState<CheckForm>(() => formOf(initial));
  const [yaml, setYaml] = useState("");
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [testFrom, setTestFrom] = useState("core");
  // A heartbeat check just created: its ping URL, shown before leaving (the API never shows it again).
  const [created, setCreated] = useState<{ check: Check; ping: PingToken } | null>(null);
  const satellites = useQuery(satellitesQuery);

  /** The definition as it stands, from whichever tab is open; null while the YAML does not parse. */
  const current = (): Draft | null => {
    if (tab === "form") return applyForm(base, form);
    const read = fromYaml(yaml);
    setYamlError(read.ok ? null : read.error);
    return read.ok ? read.draft : null;
  };

  const save = useMutation({
    mutationFn: (draft: Draft): Promise<Check & Partial<PingToken>> =>
      stored ? api.checks.replace(stored.id, { ...draft, revision: stored.revision }) : api.checks.create(draft),
    onSuccess: async (check) => {
      await invalidateChecks(queryClient);
      const { pingToken, pingUrl, ...saved } = check;
      if (pingToken !== undefined && pingUrl !== undefined) setCreated({ check: saved, ping: { pingToken, pingUrl } });
      else onSaved(saved);
    },
  });
  const test = useMutation({ mutationFn: (draft: Draft) => api.checks.test(draft, testFrom) });

  const switchTo = (next: Tab) => {
    if (next === tab) return;
    if (next === "yaml") {
      setYaml(toYaml(applyForm(base, form)));
      setYamlError(null);
    } else {
      const read = fromYaml(yaml);
      if (!read.ok) return setYamlError(read.error);
      setBase(read.draft);
      setForm(formOf(read.draft));
    }
    setTab(next);
  };

  const run = (action: "save" | "test") => {
    const draft = current();
    if (!draft) return;
    if (action === "save") save.mutate(draft);
    else test.mutate(draft);
  };

  const problem = save.error ?? test.error;
  const issues = problem instanceof ApiError ? problem.issues : [];
  const byField = issuesByField(issues, form.type);
  const set = <Field extends FormField>(field: Field, value: CheckForm[Field]) => {
    if (field === "type") {
      // A new type changes which fields exist: the document takes the change now, and the form reads it back.
      const next = applyForm(base, { ...form, type: value as CheckForm["type"] });
      setBase(next);
      setForm(formOf(next));
    } else setForm((previous) => ({ ...previous, [field]: value }));
    if (save.error) save.reset();
  };
  const online = (satellites.data?.satellites ?? []).filter((satellite) => satellite.status === "online");
  // Nothing probes a heartbeat check, so there is nothing to test: its pings are the test.
  const testable = form.type !== HEARTBEAT;

  if (created)
    return (
      <div className="card">
        <PingUrl ping={created.ping} onDone={() => onSaved(created.check)} doneLabel="I have copied it: open the check" />
      </div>
    );

  return (
    <div className="card">
      <div className="tabs" role="tablist" aria-label="Editor">
        {(["form", "yaml"] as const).map((name) => (
          <a
            key={name}
            href={`#${name}`}
            role="tab"
            aria-selected={tab === name}
            data-status={tab === name ? "active" : undefined}
            onClick={(event) => (event.preventDefault(), switchTo(name))}
          >
            {name === "form" ? "Form" : "YAML"}
          </a>
        ))}
      </div>
      <div role="tabpanel">
        {tab === "form" ? (
          <form id={formId} className="check-form" onSubmit={(event) => (event.preventDefault(), run("save"))} aria-label="Check">
            {fieldsOf(form.type).map((field) => (
              <FieldInput key={field} field={field} form={form} set={set} errors={byField.get(field)?.map((issue) => issue.message)} />
            ))}
          </form>
        ) : (
          <>
            <label htmlFor={`${formId}-yaml`} className="muted" style={{ display: "block", marginBottom: 6 }}>
              Definition (YAML)
            </label>
            <textarea
              id={`${formId}-yaml`}
              className="code"
              value={yaml}
              onChange={(event) => (setYaml(event.target.value), setYamlError(null))}
              spellCheck={false}
              autoCapitalize="off"
              autoCorrect="off"
              aria-invalid={yamlError !== null}
            />
            <p className="muted" style={{ fontSize: 13, margin: "6px 0 0" }}>
              Everything the API takes, including assertions, headers and the health policy; the form keeps what it does not show.
            </p>
            {yamlError ? (
              <div className="error-box" role="alert">
                The YAML does not parse: {yamlError}
              </div>
            ) : null}
          </>
        )}
      </div>
      {problem ? (
        <Problems error={problem} unplaced={tab === "form" ? (byField.get("") ?? []) : issues} title={save.error ? "Not saved" : "Not tested"} />
      ) : null}
      <div className="actions" style={{ marginTop: 16, alignItems: "flex-end" }}>
        <button type="button" className="primary" onClick={() => run("save")} disabled={save.isPending}>
          {save.isPending ? "Saving…" : stored ? "Save" : "Create"}
        </button>
        {testable ? (
          <>
            <label className="field" style={{ flexDirection: "row", alignItems: "center" }}>
              Test from
              <select value={testFrom} onChange={(event) => setTestFrom(event.target.value)}>
                <option value="core">core</option>
                {online.map((satellite) => (
                  <option key={satellite.id} value={satellite.id}>
                    {satellite.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => run("test")} disabled={test.isPending}>
              {test.isPending ? "Testing…" : "Test"}
            </button>
          </>
        ) : (
          <span className="muted" style={{ fontSize: 13 }}>
            {stored ? "Nothing probes a heartbeat check: its pings are its test." : "Nothing probes a heartbeat check: creating it shows its ping URL."}
          </span>
        )}
      </div>
      {test.data ? (
        <section className="card" style={{ marginTop: 16, marginBottom: 0 }} aria-label="Test result">
          <ProbeOutcome
            {...test.data.result}
            where={test.data.result.location === "core" ? "core" : online.find((s) => s.id === test.data.result.location)?.name}
          />
          <p className="muted" style={{ fontSize: 13, margin: "8px 0 0" }}>
            A test stores nothing.
          </p>
        </section>
      ) : null}
    </div>
  );
}

function Problems({ error, unplaced, title }: { error: unknown; unplaced: ReadonlyArray<{ path: string; message: string }>; title: string }) {
  const issues = error instanceof ApiError ? error.issues : [];
  // Every problem sits at its field: a short line says so, the rest is listed here.
  if (issues.length > 0 && unplaced.length === 0)
    return (
      <div className="error-box" role="alert">
        {title}: fix the fields marked below.
      </div>
    );
  if (issues.length === 0) return <ErrorMessage error={error} title={title} />;
  return (
    <div className="error-box" role="alert">
      {title}:
      <ul aria-label="Problems">
        {unplaced.map((issue, index) => (
          <li key={index}>
            <code>{issue.path || "(top level)"}</code> {issue.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function FieldInput<Field extends FormField>({
  field,
  form,
  set,
  errors,
}: {
  field: Field;
  form: CheckForm;
  set: (field: Field, value: CheckForm[Field]) => void;
  errors?: string[];
}) {
  const spec = FIELDS[field];
  const errorId = useId();
  const invalid = errors !== undefined && errors.length > 0;
  const described = { "aria-invalid": invalid || undefined, "aria-describedby": invalid ? errorId : undefined };
  const value = form[field];
  let input: ReactNode;
  if (spec.kind === "checkbox") {
    return (
      <div className="field-wrap">
        <label className="check">
          <input type="checkbox" checked={value as boolean} onChange={(event) => set(field, event.target.checked as CheckForm[Field])} {...described} />
          {spec.label}
        </label>
        <FieldErrors id={errorId} errors={errors} />
      </div>
    );
  }
  if (spec.kind === "select") {
    input = (
      <select value={value as string} onChange={(event) => set(field, event.target.value as CheckForm[Field])} {...described}>
        {(spec.options ?? []).map((option) => (
          <option key={option}>{option}</option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        value={value as string}
        inputMode={spec.kind === "number" ? "numeric" : undefined}
        placeholder={spec.placeholder}
        onChange={(event) => set(field, event.target.value as CheckForm[Field])}
        {...described}
      />
    );
  }
  return (
    <div className={`field-wrap${field === "url" || field === "name" ? " wide" : ""}`}>
      <label className="field">
        {spec.label}
        {input}
      </label>
      {spec.hint ? (
        <span className="muted" style={{ fontSize: 12 }}>
          {spec.hint}
        </span>
      ) : null}
      <FieldErrors id={errorId} errors={errors} />
    </div>
  );
}

function FieldErrors({ id, errors }: { id: string; errors?: string[] }) {
  if (!errors || errors.length === 0) return null;
  return (
    <span id={id} className="field-error">
      {errors.join("; ")}
    </span>
  );
}
