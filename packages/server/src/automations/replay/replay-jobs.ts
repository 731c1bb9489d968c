// Replay jobs: each replay runs in the background on the core that accepted it, its progress
// and result in automation_replays (the only table a replay writes). One running replay per
// owner (a partial unique index); a cancel marks the row, and the replay sees it at its next
// batch, on whichever core runs it. A core that stops fails its replays; one that died leaves
// rows that go stale and stop blocking their owner.
import { VantageError } from "../../errors.ts";
import { PostgresError, sqlState } from "../../storage/index.ts";
import type { CompiledAutomation } from "../definitions/compile-automation.ts";
import { type ReplayEngineDeps, replayAutomation } from "./replay-engine.ts";
import type { ReplayResult } from "./replay-result.ts";

export const REPLAY_STATUSES = ["running", "succeeded", "failed", "cancelled"] as const;
export type ReplayStatus = (typeof REPLAY_STATUSES)[number];

export interface ReplayJobView {
  id: string;
  status: ReplayStatus;
  /** 0…1. */
  progress: number;
  /** Changes read so far. */
  changes: number;
  request: { from: string; to: string; automationId: string | null; name: string };
  result: ReplayResult | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface ReplayJobRequest {
  compiled: CompiledAutomation;
  automationId: string | null;
  from: number;
  to: number;
}

export interface ReplayJobs {
  /** Starts a replay for `owner`; a conflict if they have one running. */
  start(owner: string, request: ReplayJobRequest): Promise<ReplayJobView>;
  get(owner: string, id: string): Promise<ReplayJobView>;
  /** Marks a running replay cancelled; it stops at its next batch. */
  cancel(owner: string, id: string): Promise<ReplayJobView>;
  /** Resolves once every replay started here has ended. */
  idle(): Promise<void>;
  /** Fails the replays running here, and waits for them. */
  stop(): Promise<void>;
}

export interface ReplayJobsOptions extends ReplayEngineDeps {
  now: () => number;
  /** A running row not touched for this long belongs to a core that died (default 60 s). */
  staleAfterMs?: number;
}

interface ReplayRow {
  id: string;
  status: ReplayStatus;
  progress: number;
  changes: string;
  request: ReplayJobView["request"];
  result: ReplayResult | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const toView = (row: ReplayRow): ReplayJobView => ({
  id: row.id,
  status: row.status,
  progress: row.progress,
  changes: Number(row.changes),
  request: row.request,
  result: row.result,
  error: row.error,
  createdAt: row.created_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
});

const COLUMNS = "id, status, progress, changes, request, result, error, created_at, finished_at";
const FAIL_STALE = `UPDATE automation_replays SET status = 'failed', error = 'interrupted: the core running it stopped', finished_at = now()
  WHERE owner = $1 AND status = 'running' AND updated_at < now() - $2 * interval '1 millisecond'`;
/** Ended replays kept per owner (their results can be large); older ones go when the owner starts another. */
export const KEPT_REPLAYS = 10;
const PRUNE = `DELETE FROM automation_replays WHERE owner = $1 AND status <> 'running'
  AND id NOT IN (SELECT id FROM automation_replays WHERE owner = $1 ORDER BY created_at DESC LIMIT ${KEPT_REPLAYS})`;
const INSERT = `INSERT INTO automation_replays (owner, request) VALUES ($1, $2) RETURNING ${COLUMNS}`;
const READ = `SELECT ${COLUMNS} FROM automation_replays WHERE id = $1 AND owner = $2`;
const PROGRESS = "UPDATE automation_replays SET progress = $2, changes = $3, updated_at = now() WHERE id = $1 RETURNING status";
const FINISH = `UPDATE automation_replays SET status = $2, result = $3, error = $4, progress = CASE WHEN $2 = 'succeeded' THEN 1 ELSE progress END,
  updated_at = now(), finished_at = now() WHERE id = $1 AND status = 'running'`;
const CANCEL = `UPDATE automation_replays SET status = 'cancelled', finished_at = now() WHERE id = $1 AND owner = $2 AND status = 'running' RETURNING ${COLUMNS}`;

const notFound = (id: string) => new VantageError("not_found", "replay_not_found", `No replay ${id} was started by you.`);
const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function createReplayJobs(options: ReplayJobsOptions): ReplayJobs {
  const { pool } = options;
  const log = options.logger.child({ component: "replay-jobs" });
  const running = new Map<string, { stop: AbortController; done: Promise<void> }>();

  const finish = (id: string, status: ReplayStatus, result: ReplayResult | null, error: string | null) =>
    pool.query(FINISH, [id, status, result === null ? null : JSON.stringify(result), error]);

  const run = async (id: string, request: ReplayJobRequest, stop: AbortSignal) => {
    try {
      const result = await replayAutomation(options, { ...request, now: options.now() }, async (progress) => {
        const { rows } = await pool.query<{ status: ReplayStatus }>(PROGRESS, [id, progress.fraction, progress.changes]);
        return rows[0]?.status === "running" && !stop.aborted;
      });
      if (result) await finish(id, "succeeded", result, null);
      else if (stop.aborted) await finish(id, "failed", null, "interrupted: the core running it stopped");
    } catch (error) {
      log.error({ err: error, replayId: id }, "a replay failed");
      await finish(id, "failed", null, (error as Error).message).catch((finishError: unknown) =>
        log.error({ err: finishError }, "cannot record a failed replay"),
      );
    }
  };

  const read = async (owner: string, id: string) => {
    if (!isUuid(id)) throw notFound(id);
    const { rows } = await pool.query<ReplayRow>(READ, [id, owner]);
    if (!rows[0]) throw notFound(id);
    return toView(rows[0]);
  };

  /** Resolves once no replay runs on this core. */
  const idle = async (): Promise<void> => {
    while (running.size > 0) await Promise.all([...running.values()].map((job) => job.done));
  };

  return {
    async start(owner, request) {
      await pool.query(FAIL_STALE, [owner, options.staleAfterMs ?? 60_000]);
      await pool.query(PRUNE, [owner]);
      const summary = {
        from: new Date(request.from).toISOString(),
        to: new Date(request.to).toISOString(),
        automationId: request.automationId,
        name: request.compiled.definition.name,
      };
      let row: ReplayRow;
      try {
        row = (await pool.query<ReplayRow>(INSERT, [owner, JSON.stringify(summary)])).rows[0]!;
      } catch (error) {
        if (sqlState(error) !== PostgresError.uniqueViolation) throw error;
        throw new VantageError("conflict", "replay_running", "You have a replay running already: wait for it to end, or cancel it.", { cause: error });
      }
      const stop = new AbortController();
      const done = run(row.id, request, stop.signal).finally(() => running.delete(row.id));
      running.set(row.id, { stop, done });
      return toView(row);
    },
    get: read,
    async cancel(owner, id) {
      if (!isUuid(id)) throw notFound(id);
      const { rows } = await pool.query<ReplayRow>(CANCEL, [id, owner]);
      if (rows[0]) return toView(rows[0]);
      await read(owner, id);
      throw new VantageError("conflict", "replay_not_running", `Replay ${id} has ended already.`);
    },
    idle,
    // Not a method using `this`: the core's stop list calls it detached.
    async stop() {
      for (const job of running.values()) job.stop.abort();
      await idle();
    },
  };
}
