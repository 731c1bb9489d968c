// Webhook secrets — the signing `secret` and credential-like headers (Authorization, Cookie,
// X-Api-Key …) — never leave the core: stored sealed with the core's SecretBox, shown by the
// API and in step records as `<redacted>`, and a definition sent back with `<redacted>` keeps
// the stored value.
import { type Action, type Issue, mapActions, type WebhookAction } from "@vantage/protocol";
import type { SecretBox } from "../../crypto/index.ts";
// The one rule for credential headers: sealed at rest and `<redacted>` here, never sent to another origin by the outbound client.
import { isCredentialHeader } from "../../outbound/index.ts";

export const REDACTED = "<redacted>";

/** A copy of `actions` with every webhook step, nested ones too, passed through `visit`. */
function mapWebhooks(actions: readonly Action[], visit: (webhook: WebhookAction, path: string) => WebhookAction): Action[] {
  return mapActions<Action>(actions, "actions", (action, path) => ("webhook" in action ? { ...action, webhook: visit(action.webhook, `${path}.webhook`) } : action));
}

/** A secret field's value: a string, or a SealedSecret in stored JSON. */
type SecretValue = string | SealedSecret;

/**
 * A copy of the definition with every secret field of every webhook step — `secret`, and
 * each credential header — replaced by `visit(value, fieldPath)`; the field path (e.g.
 * `actions.0.webhook.headers.Authorization`) names it stably within the definition.
 */
function mapSecretFields<D>(definition: D, visit: (value: SecretValue, fieldPath: string) => SecretValue | undefined): D {
  const typed = definition as unknown as Definition;
  // Typed as strings; in stored JSON they may be SealedSecrets (hence the casts).
  const actions = mapWebhooks(typed.actions, (webhook, path) => {
    const secret = webhook.secret as SecretValue | undefined;
    // Normalized definitions always have headers; a hand-built or legacy one may not.
    const headers = webhook.headers as Record<string, SecretValue> | undefined;
    return {
      ...webhook,
      ...(headers === undefined
        ? {}
        : { headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? visit(value, `${path}.headers.${name}`) : value])) as Record<string, string> }),
      ...(secret === undefined ? {} : { secret: visit(secret, `${path}.secret`) as string }),
    };
  });
  return { ...typed, actions } as unknown as D;
}

export function redactSecrets<Definition extends { actions: Action[] }>(definition: Definition): Definition {
  return mapSecretFields(definition, () => REDACTED);
}

/**
 * Puts back the stored secret wherever `incoming` says `<redacted>`; a `<redacted>` with no
 * secret stored at that step (or on a new automation) is an error at its path.
 */
export function restoreSecrets<Definition extends { actions: Action[] }>(incoming: Definition, stored: { actions: Action[] } | null): { definition: Definition; errors: Issue[] } {
  const storedValues = new Map<string, SecretValue>();
  if (stored) {
    mapSecretFields(stored, (value, fieldPath) => {
      storedValues.set(fieldPath, value);
      return value;
    });
  }
  const errors: Issue[] = [];
  const definition = mapSecretFields(incoming, (value, fieldPath) => {
    if (value !== REDACTED) return value;
    const kept = storedValues.get(fieldPath);
    if (kept === undefined) errors.push({ path: fieldPath, message: `"${REDACTED}" stands for a stored secret, and this step has none here; send the value itself` });
    return kept;
  });
  return { definition, errors };
}

/**
 * A webhook `secret` as the stored definition JSON holds it: `{ "sealed": "v1:…" }` in place of
 * the string. An object, so a sealed value can never be mistaken for (and signed with as) a
 * secret: a definition read without opening fails to compile instead of signing wrongly.
 */
export interface SealedSecret {
  sealed: string;
}

// The automation and the field are the associated data: a sealed value copied to another
// automation, step or header does not open there.
const sealContext = (automationId: string, fieldPath: string) => `automation-webhook-secret:${automationId}:${fieldPath}`;

type Definition = { actions: Action[] };

/** The definition as it is stored: every webhook secret field sealed for this automation and field. */
export function sealSecrets<D extends Definition>(definition: D, box: SecretBox, automationId: string): D {
  return mapSecretFields(definition, (value, fieldPath) => (typeof value === "string" ? { sealed: box.seal(value, sealContext(automationId, fieldPath)) } : value));
}

/**
 * A stored definition with its webhook secret fields opened, for execution (`definition` as
 * read from the database: automations.definition). Throws the box's VantageError when the
 * key differs or is missing. A plain string (stored before secrets were sealed) is kept.
 */
export function openSecrets<D>(definition: D, box: SecretBox, automationId: string): D {
  return mapSecretFields(definition, (value, fieldPath) => (typeof value === "string" ? value : box.open(value.sealed, sealContext(automationId, fieldPath))));
}
