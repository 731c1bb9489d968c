// wait_until steps woken by entity changes: a waiting step registers the entities its
// condition read; the router's automation sink wakes the runs waiting on a batch's entities.
import type { RoutedChange, SqlClient } from "../entities/index.ts";

/** Wakes (in the router's transaction) every run waiting on an entity changed in the batch. Returns how many. */
export async function wakeWaitingRuns(_batch: readonly RoutedChange[], _tx: SqlClient): Promise<number> {
  return 0; // filled in by the wait_until work
}
