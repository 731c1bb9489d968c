// The ingest batcher: results submitted by every socket and scheduler of this process coalesce
// into batches of one INSERT each; a submitter learns its outcome only after the commit.
import type pg from "pg";
import { settledInOrder, withPipelinedTransaction } from "../../../entities/index.ts";
import { VantageError } from "../../../errors.ts";
import type { Logger } from "../../../log.ts";
import type { CheckResultInput } from "../check-result.ts";
import { type IngestContext, type IngestOutcome, ingestResults, isUnmarkedResend, startedAtOf } from "./ingest-results.ts";
import { type ResultMetrics, UNKNOWN_CHECK_TYPE } from "../result-metrics.ts";

/** What became of a submitted result. All three are acknowledged to a satellite. */
export type SubmitOutcome = "stored" | "duplicate" | "dropped";

export interface ResultIngestOptions {
  pool: pg.Pool;
  logger: Logger;
  context: IngestContext;
  metrics?: ResultMetrics;
  /** Results per statement at most (default 1,000). */
  maxBatch?: number;
  /** How long the first result of a batch waits for company (default 5 ms). */
  maxDelayMs?: number;
  /** Batches in flight at once (default 2): the next one fills while one commits. */
  concurrency?: number;
  /**
   * Runs in the batch's transaction once its insert was sent (health evaluation). Its failure
   * fails the batch: nothing is stored and every submitter is rejected. What it returns runs
   * once the batch committed (announcing the entity changes it recorded).
   */
  inTransaction?: (tx: IngestTransaction, results: readonly CheckResultInput[]) => Promise<void | (() => void)>;
}

/** A batch's open transaction, as the `inTransaction` hook sees it. */
export interface IngestTransaction {
  /**
   * The transaction's client, in pg's pipeline mode: statements issued without awaiting the
   * one before share a round trip (and run in issue order, behind the insert).
   */
  client: pg.PoolClient;
  /** The insert's outcome; what the hook sends before awaiting it travels with the insert. */
  stored: Promise<IngestOutcome>;
  /** Sends COMMIT behind what was issued so far, in its round trip (the batch commits after the hook either way). */
  commit(): void;
}

export interface ResultIngest {
  /**
   * Queues a result; resolves once its batch committed. Rejects when the batch failed, so the
   * caller does not acknowledge it and the satellite sends it again.
   */
  submit(result: CheckResultInput): Promise<SubmitOutcome>;
  /** Writes everything submitted so far and waits for it. */
  flush(): Promise<void>;
  /** Refuses new results, then flushes. */
  stop(): Promise<void>;
}

interface Entry {
  result: CheckResultInput;
  /** startedAtOf(result), parsed once on submit. */
  startedAt: number;
  resolve: (outcome: SubmitOutcome) => void;
  reject: (error: unknown) => void;
}

export const DEFAULT_MAX_BATCH = 1000;
export const DEFAULT_MAX_DELAY_MS = 5;
export const DEFAULT_INGEST_CONCURRENCY = 2;

export function createResultIngest(options: ResultIngestOptions): ResultIngest {
  const { pool, context, metrics } = options;
  const log = options.logger.child({ component: "check-result-ingest" });
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const concurrency = options.concurrency ?? DEFAULT_INGEST_CONCURRENCY;
  let pending: Entry[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  // With a hook, the batch is one pipelined transaction: BEGIN, the insert and whatever the
  // hook sends before it needs the insert's answer go in one round trip; its last write and
  // COMMIT in another (health evaluation: two round trips instead of five).
  const storeOnce = async (results: CheckResultInput[], startedAts: number[], mayHoldResends: boolean): Promise<IngestOutcome> => {
    const { inTransaction } = options;
    if (!inTransaction) return ingestResults(pool, results, context, { startedAts, mayHoldResends });
    const [outcome, afterCommit] = await withPipelinedTransaction(pool, "BEGIN", async (tx) => {
      const { client, sent } = signallingFirstQuery(tx.client);
      const storing = ingestResults(client, results, context, { startedAts, mayHoldResends });
      // The hook starts once the insert is on its way (or there was nothing to insert), so
      // what it sends is behind the insert.
      await Promise.race([sent, storing.catch(() => undefined)]);
      const hooked = inTransaction({ client: tx.client, stored: storing, commit: tx.commit }, results);
      return settledInOrder<[IngestOutcome, void | (() => void)]>([storing, hooked]);
    });
    afterCommit?.();
    return outcome;
  };

  // A batch none of whose results was marked as a resend is inserted without ON CONFLICT (its
  // dearer speculative insert). If it held a stored result after all (a submitter that did not
  // know: an older agent's resend the gateway did not take for one, its clock being ahead of the
  // core's), its insert failed, its transaction rolled back with nothing stored and nothing of
  // the hook's kept, and it is redone whole, skipping resends: one wasted attempt, never a lost
  // or doubled result.
  const store = async (batch: readonly Entry[]): Promise<IngestOutcome> => {
    const results = batch.map((entry) => entry.result);
    const startedAts = batch.map((entry) => entry.startedAt);
    const marked = results.some((result) => result.resend === true);
    try {
      return await storeOnce(results, startedAts, marked);
    } catch (error) {
      if (marked || !isUnmarkedResend(error)) throw error;
      metrics?.unmarkedResendBatches.inc();
      log.debug({ results: batch.length }, "a batch held a resend not marked as one: storing it again, skipping resends");
      return storeOnce(results, startedAts, true);
    }
  };

  const write = async (batch: Entry[]): Promise<void> => {
    const stopTimer = metrics?.batchDuration.startTimer();
    let outcome: IngestOutcome;
    try {
      outcome = await store(batch);
    } catch (error) {
      metrics?.batchFailures.inc();
      log.warn({ err: error, results: batch.length }, "could not store a batch of check results; its submitters will resend");
      for (const entry of batch) entry.reject(error);
      return;
    } finally {
      stopTimer?.();
    }
    metrics?.batchSize.observe(batch.length);
    // A result id stored once answers "stored" to its first submitter only; a repeat within
    // the batch is a duplicate, as it would be in the next batch. The usual batch stored all
    // of its results and needs no lookup per result.
    const allStored = outcome.stored.length === batch.length;
    const stored = allStored ? undefined : new Set(outcome.stored);
    const dropped = new Set(outcome.dropped.map((drop) => drop.resultId));
    // Counted once per type and status a batch holds, not once per result (a labelled inc hashes its labels).
    const storedBy = new Map<string, { type: string; status: string; n: number }>();
    for (const entry of batch) {
      const { resultId, status, checkType = UNKNOWN_CHECK_TYPE } = entry.result;
      if (allStored || stored!.delete(resultId)) {
        const key = `${checkType}\n${status}`;
        const count = storedBy.get(key);
        if (count) count.n += 1;
        else storedBy.set(key, { type: checkType, status, n: 1 });
        entry.resolve("stored");
      } else if (dropped.has(resultId)) {
        entry.resolve("dropped");
      } else {
        metrics?.duplicates.inc();
        entry.resolve("duplicate");
      }
    }
    for (const { type, status, n } of storedBy.values()) metrics?.stored.inc({ type, status }, n);
    for (const { reason } of outcome.dropped) metrics?.dropped.inc({ reason });
  };

  // Sends full batches while a slot is free; whatever waits is sent when a batch completes
  // (group commit: under load, batches grow to what arrived during the previous commit).
  const dispatch = () => {
    clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0 && inFlight.size < concurrency) {
      const batch = pending.length <= maxBatch ? pending : pending.slice(0, maxBatch);
      pending = pending.length <= maxBatch ? [] : pending.slice(maxBatch);
      const writing: Promise<void> = write(batch).finally(() => {
        inFlight.delete(writing);
        if (pending.length > 0) dispatch();
      });
      inFlight.add(writing);
    }
  };

  const flush = async () => {
    while (pending.length > 0 || inFlight.size > 0) {
      dispatch();
      await Promise.race(inFlight);
    }
  };

  return {
    submit(result) {
      if (stopped)
        return Promise.reject(
          new VantageError("transient", "ingest_stopped", "This core is shutting down and stores no more results; send the result again (to any core)."),
        );
      let startedAt: number;
      try {
        startedAt = startedAtOf(result);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<SubmitOutcome>((resolve, reject) => {
        pending.push({ result, startedAt, resolve, reject });
        if (pending.length >= maxBatch) dispatch();
        else timer ??= setTimeout(dispatch, maxDelayMs);
      });
    },
    flush,
    async stop() {
      stopped = true;
      await flush();
    },
  };
}

/** The client, and a promise settled as soon as a first statement was sent through it. */
function signallingFirstQuery(client: pg.PoolClient): { client: Pick<pg.ClientBase, "query">; sent: Promise<void> } {
  let signal!: () => void;
  const sent = new Promise<void>((resolve) => (signal = resolve));
  const query = ((...args: unknown[]) => {
    const answer = (client.query as (...a: unknown[]) => unknown)(...args);
    signal();
    return answer;
  }) as pg.ClientBase["query"];
  return { client: { query }, sent };
}
