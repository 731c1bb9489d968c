// Webhook signing secrets never leave the core: the API shows them as `<redacted>`, and a
// definition sent back with `<redacted>` keeps the secret stored at the same step.
import type { Action, WebhookAction } from "@vantage/protocol";
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
