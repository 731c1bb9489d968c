// Runs of checks on the core location, scheduled or asked for through the API: the stored
// definition opened, its probe run within a budget, the result (location "core") handed to
// ingest and counted. The seams to the rest of the checks module are the three dependencies.
import { randomUUID } from "node:crypto";
import { type CheckDefinition, type CheckResultDetail, type CheckRunStatus, probeSpecOf } from "@vantage/protocol";
import type { Logger } from "../../log.ts";
import { type CheckResultInput, columnsOfDetail } from "../results/check-result.ts";
import type { ResultIngest } from "../results/ingest/result-ingest.ts";
import { failedOutcome, type RunProbe, runProbeBounded } from "./probe-run.ts";
import type { CoreLocationMetrics } from "./core-location-metrics.ts";

/** The location the core's results carry. */
export const CORE_LOCATION = "core";

/** A check as the `checks` table stores it: sealed fields (credential headers) still sealed. */
export interface StoredCheck {
  id: string;
  /** The `type` column: what the run is counted under even when its definition cannot be opened. */
  type: string;
  definition: unknown;
}

/** What the core location needs from the definitions store. */
export interface CoreCheckSource {
  /** One stored check, or null when there is none with this id. */
  find(id: string): Promise<StoredCheck | null>;
  /** The stored definition with its sealed fields opened; throws when it cannot be. */
  open(check: StoredCheck): CheckDefinition | Promise<CheckDefinition>;
}

/** One run's result as results ingest takes it, its location "core". */
export type CoreRunResult = CheckResultInput;

/** Results ingest (`CheckResults.ingest`): resolves once the result is stored. */
export type ResultSubmitter = Pick<ResultIngest, "submit">;

export interface CoreRunsOptions {
  runProbe: RunProbe;
  source: CoreCheckSource;
  ingest: ResultSubmitter;
  metrics: CoreLocationMetrics;
  logger: Logger;
  now: () => number;
  newResultId?: () => string;
}

/** An unsaved definition's run, as `POST /checks/test` answers it. */
export interface TrialRun {
  startedAt: string;
  durationMs: number;
  status: CheckRunStatus;
  detail: CheckResultDetail;
}

export interface StoredRunOptions {
  budgetMs?: number;
  signal?: AbortSignal;
  /** Instead of `signal`: the run's own controller, aborted to cancel it (see runProbeBounded). */
  controller?: AbortController;
  /**
   * Called once the probe ended, before its result is submitted: from then on the run only
   * waits for the ingest's commit, and takes no probe's place (the scheduler's concurrency).
   */
  onProbed?: () => void;
}

export interface CoreRuns {
  /**
   * Runs a stored check once within its timeout (and `budgetMs`, when shorter) and submits its
   * result; null when `signal` aborted it first (the core is stopping: nothing is submitted).
   */
  runStored(check: StoredCheck, options?: StoredRunOptions): Promise<CoreRunResult | null>;
  /** Runs a definition once, within its own timeout, and submits nothing. */
  runTrial(definition: CheckDefinition, signal?: AbortSignal): Promise<TrialRun | null>;
}

export function createCoreRuns(options: CoreRunsOptions): CoreRuns {
  const { runProbe, source, ingest, metrics, now } = options;
  const log = options.logger.child({ component: "core-location" });
  const newResultId = options.newResultId ?? randomUUID;

  const run = async (definition: CheckDefinition, budgetMs: number, cancel: Pick<StoredRunOptions, "signal" | "controller">): Promise<TrialRun | null> => {
    const done = await runProbeBounded(runProbe, probeSpecOf(definition), { budgetMs, signal: cancel.signal, controller: cancel.controller, now });
    if (done.aborted) return null;
    metrics.runs.inc({ type: definition.type, status: done.outcome.status });
    return { startedAt: new Date(done.startedAt).toISOString(), durationMs: done.durationMs, status: done.outcome.status, detail: done.outcome.detail };
  };

  /** A definition that cannot be opened (a sealed header without the key) is the core's failure. */
  const unopenable = (check: StoredCheck, error: unknown): TrialRun => {
    const message = `the stored definition could not be opened: ${error instanceof Error ? error.message : String(error)}`;
    log.warn({ checkId: check.id, err: error }, "cannot run a check on the core: its definition could not be opened");
    metrics.runs.inc({ type: check.type, status: "error" });
    return { startedAt: new Date(now()).toISOString(), durationMs: 0, ...failedOutcome("error", "definition_unreadable", message) };
  };

  /** The definition opened, or the run's failure when it cannot be. */
  const open = async (check: StoredCheck): Promise<CheckDefinition | TrialRun> => {
    try {
      return await source.open(check);
    } catch (error) {
      return unopenable(check, error);
    }
  };

  return {
    async runStored(check, options = {}) {
      const opened = await open(check);
      const trial = "detail" in opened ? opened : await run(opened, Math.min(options.budgetMs ?? Infinity, opened.timeoutMs), options);
      if (trial === null) return null;
      options.onProbed?.();
      const { statusCode, errorCode } = columnsOfDetail(trial.detail);
      const result: CoreRunResult = {
        resultId: newResultId(),
        checkId: check.id,
        location: CORE_LOCATION,
        startedAt: trial.startedAt,
        durationMs: trial.durationMs,
        status: trial.status,
        detail: trial.detail,
        statusCode,
        errorCode,
      };
      await ingest.submit({ ...result, checkType: check.type });
      return result;
    },
    runTrial: (definition, signal) => run(definition, definition.timeoutMs, { signal }),
  };
}
