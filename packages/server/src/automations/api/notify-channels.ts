// A `notify` step must name a notification channel that exists, by id or by name as the notify
// action resolves it: checked when a definition is saved or validated, so a typo is a 400, not a failed run.
import { type Action, canonicalUuid, didYouMean, forEachAction, type Issue } from "@vantage/protocol";
import type { NotificationService } from "../../notifications/index.ts";

interface NotifyStep {
  path: string;
  channel: string;
}

/** Every notify step, nested ones too. */
function notifySteps(actions: readonly Action[]): NotifyStep[] {
  const steps: NotifyStep[] = [];
  forEachAction(actions, "actions", (action, path) => {
    if ("notify" in action) steps.push({ path, channel: action.notify.channel });
  });
  return steps;
}

/**
 * One issue (at `….notify.channel`) per notify step of a definition (its parsed `actions`)
 * whose channel does not exist; reads the channels only if there is such a step.
 */
export async function checkNotifyChannels(actions: readonly Action[], notifications: Pick<NotificationService, "channels">): Promise<Issue[]> {
  const steps = notifySteps(actions);
  if (steps.length === 0) return [];
  const channels = await notifications.channels.list();
  const ids = new Set(channels.map((channel) => channel.id));
  const names = new Set(channels.map((channel) => channel.name));
  const known = channels.map((channel) => JSON.stringify(channel.name)).join(", ") || "none; create one at /api/v1/notification-channels";
  return (
    steps
      .map((step) => ({ step, id: canonicalUuid(step.channel) }))
      // As in the notify action: a uuid names a channel by id, anything else by name.
      .filter(({ step, id }) => (id === undefined ? !names.has(step.channel) : !ids.has(id)))
      .map(({ step, id }) => ({
        path: `${step.path}.notify.channel`,
        message: `no notification channel has the ${id === undefined ? "name" : "id"} "${step.channel}" (${id === undefined ? didYouMean(step.channel, [...names], (name) => JSON.stringify(name)) : ""}known: ${known})`,
      }))
  );
}
