// The ids in the automations API's paths, each read by the one uuid rule (lower case) with
// its resource's 404: a malformed id is answered exactly as an unknown one.
import type { Context } from "hono";
import { VantageError } from "../../errors.ts";
import { pathId } from "../../http/index.ts";
import { automationNotFound } from "../definitions/automation-store.ts";

export function runNotFound(runId: string): VantageError {
  return new VantageError("not_found", "run_not_found", `No run ${runId} of this automation.`);
}

/** The automation that `:id` names. */
export const automationIdOf = (c: Context): string => pathId(c, "id", automationNotFound);

/** The run that `:runId` names. */
export const runIdOf = (c: Context): string => pathId(c, "runId", runNotFound);
