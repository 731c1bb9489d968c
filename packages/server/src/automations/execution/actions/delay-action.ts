// The `delay` action: never sleeps. The executor stores the step as waiting with its due
// time and reschedules the run's job for then, so a restart in between loses nothing.
import type { ActionModule } from "./step.ts";

export const delayAction: ActionModule<"delay"> = async (action) => ({
  input: { durationMs: action.durationMs },
  execute: async () => ({ status: "waiting", delayMs: action.durationMs }),
});
