// The YAML editor of an automation: the text is sent as application/yaml as written. While
// typing, it is held to the JSON Schema the core publishes (schema-problems.ts, loaded with the
// editor); Validate asks the core, which also knows the trigger events, channels and patterns.
// Each problem is shown at its path. Ctrl/⌘+Enter saves.
import { useMutation, useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useId, useState } from "react";
import { type Automation, api, type Validation } from "../../api/client.ts";
import { ErrorMessage } from "../../ui/components.tsx";
import { ReplayPanel } from "./replay-panel.tsx";
import type { SchemaProblem } from "./schema-problems.ts";

/** How long typing pauses before the text is checked against the schema (a check per keystroke would lag on long definitions). */
const SCHEMA_CHECK_PAUSE_MS = 250;

/** The published schema compiled into a checker, once per session; Ajv and the YAML parser load only here. */
const schemaCheckerQuery = {
  queryKey: ["automations", "schema"],
  queryFn: async ({ signal }: { signal: AbortSignal }) => {
    const [schema, { schemaChecker }] = await Promise.all([api.automations.schema(signal), import("./schema-problems.ts")]);
    return schemaChecker(schema);
  },
  staleTime: Infinity,
  // A function is not data to compare: keep the one compiled.
  structuralSharing: false,
} as const;

/** The schema's problems with `yaml`, after a pause in typing; null until the schema is loaded and the text checked. */
function useSchemaProblems(yaml: string): SchemaProblem[] | null {
  const checker = useQuery(schemaCheckerQuery).data;
  const [checked, setChecked] = useState<{ yaml: string; problems: SchemaProblem[] } | null>(null);
  useEffect(() => {
    if (!checker) return;
    const timer = setTimeout(() => setChecked({ yaml, problems: checker(yaml) }), SCHEMA_CHECK_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [checker, yaml]);
  // Problems of an older text are not shown against the new one.
  return checked?.yaml === yaml ? checked.problems : null;
}

export const NEW_AUTOMATION_YAML = `name: log when a satellite disconnects
triggers:
  - event: satellite.disconnected
actions:
  - log:
      message: "{{ trigger.payload.name }} disconnected"
mode: single
`;

export interface AutomationEditorProps {
  initialYaml: string;
  /** Creates or replaces; its answer is the saved automation. */
  save: (yaml: string) => Promise<Automation>;
  onSaved: (automation: Automation) => void;
  saveLabel: string;
}

export function AutomationEditor({ initialYaml, save, onSaved, saveLabel }: AutomationEditorProps) {
  const [yaml, setYaml] = useState(initialYaml);
  const [validation, setValidation] = useState<Validation | null>(null);
  const editorId = useId();
  const saving = useMutation({ mutationFn: () => save(yaml), onSuccess: onSaved });
  const validating = useMutation({ mutationFn: () => api.automations.validate(yaml), onSuccess: setValidation });
  const triggers = useQuery({ queryKey: ["triggers"], queryFn: ({ signal }) => api.triggers.list(signal), staleTime: Infinity });
  const schemaProblems = useSchemaProblems(yaml);

  const edit = (text: string) => {
    setYaml(text);
    // What was said about the old text no longer holds.
    setValidation(null);
    if (saving.error) saving.reset();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      saving.mutate();
    }
  };

  return (
    <div className="card">
      <label htmlFor={editorId} className="muted" style={{ display: "block", marginBottom: 6 }}>
        Definition (YAML)
      </label>
      <textarea
        id={editorId}
        className="code"
        value={yaml}
        onChange={(event) => edit(event.target.value)}
        onKeyDown={onKeyDown}
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        aria-describedby={`${editorId}-help ${editorId}-schema`}
        aria-invalid={schemaProblems !== null && schemaProblems.length > 0}
      />
      <div id={`${editorId}-schema`}>
        {schemaProblems && schemaProblems.length > 0 ? (
          <div className="field-error" style={{ marginTop: 6 }}>
            Against the published schema:
            <ul aria-label="Schema problems" style={{ margin: "4px 0 0" }}>
              {schemaProblems.map((problem, index) => (
                <li key={index}>
                  {problem.line !== undefined ? `line ${problem.line}: ` : null}
                  <code>{problem.path || "(top level)"}</code> {problem.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>
      <p id={`${editorId}-help`} className="muted" style={{ fontSize: 13, margin: "6px 0 0" }}>
        Checked against the published JSON Schema as you type; Validate also checks events, channels and patterns with the core. Ctrl/⌘+Enter saves. Webhook
        secrets show as <code>&lt;redacted&gt;</code>; leave them so to keep the stored ones.
      </p>
      {validation?.valid ? (
        <div className="success-box" role="status">
          Valid. It listens to <code>{validation.events.join(", ")}</code>.
        </div>
      ) : null}
      {validation && !validation.valid ? (
        <div className="error-box" role="alert">
          Not valid:
          <ul aria-label="Problems">
            {validation.errors.map((issue, index) => (
              <li key={index}>
                <code>{issue.path || "(top level)"}</code> {issue.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <ErrorMessage error={saving.error} title="Not saved" />
      <ErrorMessage error={validating.error} title="Could not validate" />
      <div className="actions" style={{ marginTop: 12 }}>
        <button type="button" className="primary" onClick={() => saving.mutate()} disabled={saving.isPending}>
          {saving.isPending ? "Saving…" : saveLabel}
        </button>
        <button type="button" onClick={() => validating.mutate()} disabled={validating.isPending}>
          Validate
        </button>
      </div>
      <ReplayPanel yaml={yaml} />
      {triggers.data ? (
        <details style={{ marginTop: 16 }}>
          <summary>Trigger events on this core ({triggers.data.triggers.length})</summary>
          <dl className="facts" style={{ marginTop: 8 }}>
            {triggers.data.triggers.map((trigger) => (
              <div key={trigger.id} style={{ display: "contents" }}>
                <dt>
                  <code>{trigger.id}</code>
                </dt>
                <dd>{trigger.description}</dd>
              </div>
            ))}
          </dl>
        </details>
      ) : null}
    </div>
  );
}
