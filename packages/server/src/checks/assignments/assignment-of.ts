// A check as a satellite receives it: the assignment of its scheduled runs, and the `check` of
// a `run` frame on demand. One shape, built in one place, from the definition opened (credential
// headers in clear: the satellite sends them).
import { type Assignment, type CheckDefinition, probeSpecOf } from "@vantage/protocol";

/** `checkId` is the stored check's id (or, for an unsaved definition, the run's request id). */
export function assignmentOf(checkId: string, definition: CheckDefinition, revision?: number): Assignment {
  return {
    checkId,
    name: definition.name,
    type: definition.type,
    intervalSeconds: definition.intervalSeconds,
    timeoutMs: definition.timeoutMs,
    config: probeSpecOf(definition),
    ...(revision === undefined ? {} : { revision }),
  };
}
