// A `notify` step must name a notification channel that exists, by id or by name as the notify
// action resolves it: checked when a definition is saved or validated, so a typo is a 400, not a failed run.
import { canonicalUuid, type Issue } from "@vantage/protocol";
import type { NotificationService } from "../../notifications/index.ts";
import type { CompiledAction } from "../definitions/compile-automation.ts";

type NotifyStep = Extract<CompiledAction, { kind: "notify" }>;

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
export async function checkNotifyChannels(actions: readonly CompiledAction[], notifications: Pick<NotificationService, "channels">): Promise<Issue[]> {
  const steps = notifySteps(actions);
  if (steps.length === 0) return [];
  const channels = await notifications.channels.list();
  const ids = new Set(channels.map((channel) => channel.id));
  const names = new Set(channels.map((channel) => channel.name));
  const known = channels.map((channel) => JSON.stringify(channel.name)).join(", ") || "none; create one at /api/v1/notification-channels";
  return steps
    .map((step) => ({ step, id: canonicalUuid(step.channel) }))
    // As in the notify action: a uuid names a channel by id, anything else by name.
    .filter(({ step, id }) => (id === undefined ? !names.has(step.channel) : !ids.has(id)))
    .map(({ step, id }) => ({ path: `${step.path}.notify.channel`, message: `no notification channel has the ${id === undefined ? "name" : "id"} "${step.channel}" (known: ${known})` }));
}
