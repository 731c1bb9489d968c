// The status test of runs named by their ids: automation_runs_active and automation_runs_queued
// index only runs not yet ended, and a table of mostly ended runs makes the planner take them for
// empty (storage/found-by-key.ts says what that costs and how this avoids it).
import { onRowFoundByKey } from "../../storage/index.ts";
import type { RunStatus } from "./automation-runs.ts";

/** SQL true when `column` (a run's status, e.g. `r.status`) is one of `statuses`; for runs found by id. */
export const statusOfRunFoundById = (column: string, statuses: readonly RunStatus[]): string =>
  onRowFoundByKey(`${column} IN (${statuses.map((status) => `'${status}'`).join(", ")})`);
