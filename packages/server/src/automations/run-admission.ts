// Run modes (single, restart, queued, parallel) and maxRuns, per automation or per context:
// deciding whether a triggered run starts, waits its turn or is skipped, and starting the
// next queued run when one ends. Serialized per scope by a transaction-level advisory lock.
import type { SqlClient } from "../entities/index.ts";

/** After a run ended or was cancelled (same transaction): starts the oldest queued run of its scope, if any. */
export async function promoteNextQueued(_tx: SqlClient, _runId: string): Promise<void> {
  // filled in by the run-modes work
}
