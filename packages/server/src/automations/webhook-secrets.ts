// Webhook signing secrets never leave the core: stored sealed with the core's SecretBox, shown
// by the API as `<redacted>`, and a definition sent back with `<redacted>` keeps the stored one.
import type { Action, WebhookAction } from "@vantage/protocol";
import type { SecretBox } from "../crypto/index.ts";
import type { AutomationIssue } from "./compile-scope.ts";

export const REDACTED = "<redacted>";

type WebhookVisitor = (webhook: WebhookAction, path: string) => WebhookAction;

/** A copy of `actions` with every webhook step (in choose and parallel too) passed through `visit`. */
function mapWebhooks(actions: readonly Action[], path: string, visit: WebhookVisitor): Action[] {
  return actions.map((action, index): Action => {
    const at = `${path}.${index}`;
    if ("webhook" in action) return { ...action, webhook: visit(action.webhook, `${at}.webhook`) };
    if ("choose" in action) {
      const { when, else: otherwise } = action.choose;
      return {
        ...action,
        choose: {
          when: when.map((branch, b) => ({ ...branch, then: mapWebhooks(branch.then, `${at}.choose.when.${b}.then`, visit) })),
          ...(otherwise ? { else: mapWebhooks(otherwise, `${at}.choose.else`, visit) } : {}),
        },
      };
    }
    if ("parallel" in action) return { ...action, parallel: { branches: action.parallel.branches.map((branch, b) => mapWebhooks(branch, `${at}.parallel.branches.${b}`, visit)) } };
    return action;
  });
}

export function redactSecrets<Definition extends { actions: Action[] }>(definition: Definition): Definition {
  return { ...definition, actions: mapWebhooks(definition.actions, "actions", (webhook) => (webhook.secret === undefined ? webhook : { ...webhook, secret: REDACTED })) };
}

/**
 * Puts back the stored secret wherever `incoming` says `<redacted>`; a `<redacted>` with no
 * secret stored at that step (or on a new automation) is an error at its path.
 */
export function restoreSecrets<Definition extends { actions: Action[] }>(incoming: Definition, stored: { actions: Action[] } | null): { definition: Definition; errors: AutomationIssue[] } {
  const storedSecrets = new Map<string, string>();
  if (stored) {
    mapWebhooks(stored.actions, "actions", (webhook, path) => {
      if (webhook.secret !== undefined) storedSecrets.set(path, webhook.secret);
      return webhook;
    });
  }
  const errors: AutomationIssue[] = [];
  const actions = mapWebhooks(incoming.actions, "actions", (webhook, path) => {
    if (webhook.secret !== REDACTED) return webhook;
    const secret = storedSecrets.get(path);
    if (secret === undefined) errors.push({ path: `${path}.secret`, message: `"${REDACTED}" stands for a stored secret, and this step has none; send the secret itself` });
    return { ...webhook, secret };
  });
  return { definition: { ...incoming, actions }, errors };
}

/**
 * A webhook `secret` as the stored definition JSON holds it: `{ "sealed": "v1:…" }` in place of
 * the string. An object, so a sealed value can never be mistaken for (and signed with as) a
 * secret: a definition read without opening fails to compile instead of signing wrongly.
 */
export interface SealedSecret {
  sealed: string;
}

// The automation and the step are the associated data: a sealed value copied to another
// automation or step does not open there.
const sealContext = (automationId: string, path: string) => `automation-webhook-secret:${automationId}:${path}`;

type Definition = { actions: Action[] };

/** `definition` with every webhook secret (a string, or a SealedSecret in stored JSON) replaced by `visit`'s result. */
function mapStoredSecrets<D>(definition: D, visit: (secret: string | SealedSecret, path: string) => string | SealedSecret): D {
  const typed = definition as unknown as Definition;
  // The secret is typed as a string; in stored JSON it may be a SealedSecret (hence the casts).
  const actions = mapWebhooks(typed.actions, "actions", (webhook, path) => {
    const secret = webhook.secret as string | SealedSecret | undefined;
    return secret === undefined ? webhook : { ...webhook, secret: visit(secret, `${path}.secret`) as string };
  });
  return { ...typed, actions } as unknown as D;
}

/** The definition as it is stored: every webhook secret sealed for this automation and step. */
export function sealSecrets<D extends Definition>(definition: D, box: SecretBox, automationId: string): D {
  return mapStoredSecrets(definition, (secret, path) => (typeof secret === "string" ? { sealed: box.seal(secret, sealContext(automationId, path)) } : secret));
}

/**
 * A stored definition with its webhook secrets opened, for execution (`definition` as
 * read from the database: automations.definition). Throws the box's VantageError when the
 * key differs or is missing. A plain string (stored before secrets were sealed) is kept.
 */
export function openSecrets<D>(definition: D, box: SecretBox, automationId: string): D {
  return mapStoredSecrets(definition, (secret, path) => (typeof secret === "string" ? secret : box.open(secret.sealed, sealContext(automationId, path))));
}
