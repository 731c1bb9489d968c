// Webhook secrets — the signing `secret` and credential-like headers (Authorization, Cookie,
// X-Api-Key …) — never leave the core: stored sealed with the core's SecretBox, shown by the
// API and in step records as `<redacted>`, and a definition sent back with `<redacted>` keeps
// the stored value. Where the secret fields are is said here; what happens to them is
// crypto's defineSealedFields.
import { type Action, mapActions, type WebhookAction } from "@vantage/protocol";
import { defineSealedFields, type SecretFieldMap, type SecretValue } from "../../crypto/index.ts";
// The one rule for credential headers: sealed at rest and `<redacted>` here, never sent to another origin by the outbound client.
import { isCredentialHeader } from "../../outbound/index.ts";

/** A copy of `actions` with every webhook step, nested ones too, passed through `visit`. */
function mapWebhooks(actions: readonly Action[], visit: (webhook: WebhookAction, path: string) => WebhookAction): Action[] {
  return mapActions<Action>(actions, "actions", (action, path) =>
    "webhook" in action ? { ...action, webhook: visit(action.webhook, `${path}.webhook`) } : action,
  );
}

/**
 * A copy of the definition with every secret field of every webhook step — `secret`, and
 * each credential header — replaced by `visit(value, fieldPath)`; the field path (e.g.
 * `actions.0.webhook.headers.Authorization`) names it stably within the definition.
 */
const mapSecretFields: SecretFieldMap = (definition, visit) => {
  const typed = definition as unknown as { actions: Action[] };
  // Typed as strings; in stored JSON they may be SealedSecrets (hence the casts).
  const actions = mapWebhooks(typed.actions, (webhook, path) => {
    const secret = webhook.secret as SecretValue | undefined;
    // Normalized definitions always have headers; a hand-built or legacy one may not.
    const headers = webhook.headers as Record<string, SecretValue> | undefined;
    return {
      ...webhook,
      ...(headers === undefined
        ? {}
        : {
            headers: Object.fromEntries(
              Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? visit(value, `${path}.headers.${name}`) : value]),
            ) as Record<string, string>,
          }),
      ...(secret === undefined ? {} : { secret: visit(secret, `${path}.secret`) as string }),
    };
  });
  return { ...typed, actions } as typeof definition;
};

// The automation and the field are the associated data: a sealed value copied to another
// automation, step or header does not open there.
const webhookSecrets = defineSealedFields("automation-webhook-secret", mapSecretFields);

/** The definition with every webhook secret shown `<redacted>`. */
export const redactSecrets = webhookSecrets.redact;
/** Puts back the stored secret wherever the incoming definition says `<redacted>`; an issue at its path where none is stored. */
export const restoreSecrets = webhookSecrets.restore;
/** The definition as it is stored: every webhook secret field sealed for this automation and field. */
export const sealSecrets = webhookSecrets.seal;
/**
 * A stored definition with its webhook secret fields opened, for execution (`definition` as
 * read from the database: automations.definition). Throws the box's VantageError when the
 * key differs or is missing. A plain string (stored before secrets were sealed) is kept.
 */
export const openSecrets = webhookSecrets.open;
