// A `notify` step must name a notification channel that exists, by id or by name as the notify
// action resolves it: checked when a definition is saved or validated, so a typo is a 400, not a failed run.
import type { NotificationService } from "../../notifications/index.ts";
import type { CompiledAction } from "../definitions/compile-automation.ts";
import type { AutomationIssue } from "../definitions/compile-scope.ts";
import { isUuid } from "../definitions/ids.ts";

type NotifyStep = Extract<CompiledAction, { kind: "notify" }>;


// As in the notify action: a uuid names a channel by id, anything else by name.

/** Every notify step, in choose and parallel too. */
function notifySteps(actions: readonly CompiledAction[]): NotifyStep[] {
  return actions.flatMap((action): NotifyStep[] => {
    if (action.kind === "notify") return [action];
    if (action.kind === "choose") return [...action.when.flatMap((branch) => notifySteps(branch.then)), ...notifySteps(action.otherwise)];
    if (action.kind === "parallel") return action.branches.flatMap(notifySteps);
    return [];
  });
}

/** One issue (at `….notify.channel`) per notify step whose channel does not exist; reads the channels only if there is such a step. */
export async function checkNotifyChannels(actions: readonly CompiledAction[], notifications: Pick<NotificationService, "channels">): Promise<AutomationIssue[]> {
  const steps = notifySteps(actions);
  if (steps.length === 0) return [];
  const channels = await notifications.channels.list();
  const ids = new Set(channels.map((channel) => channel.id.toLowerCase()));
  const names = new Set(channels.map((channel) => channel.name));
  const known = channels.map((channel) => JSON.stringify(channel.name)).join(", ") || "none; create one at /api/v1/notification-channels";
  return steps
    .filter((step) => (isUuid(step.channel) ? !ids.has(step.channel.toLowerCase()) : !names.has(step.channel)))
    .map((step) => ({ path: `${step.path}.notify.channel`, message: `no notification channel has the ${isUuid(step.channel) ? "id" : "name"} "${step.channel}" (known: ${known})` }));
}
