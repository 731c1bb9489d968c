// Runs the assigned checks: each starts at a random offset within its interval, then every
// interval, never two runs of one check at once, each bounded by its timeout. Runs on demand
// (the core's `run` frames) go through the same lane, so they never overlap a scheduled run.
import { randomUUID } from "node:crypto";
import { timedOutResult, watchLoopStall } from "@vantage/probes";
import type { Assignment, ResultFrame, RunOutcome } from "@vantage/protocol";
import type { Clock, Random, TimerHandle } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { ProbeRegistry, ProbeResult } from "./probes/registry.ts";

export interface SchedulerOptions {
  probes: ProbeRegistry;
  /** Every finished run's result, except runs aborted because their check was unassigned or changed. */
  onResult: (result: ResultFrame) => void;
  clock: Clock;
  random: Random;
  logger: Logger;
  newResultId?: () => string;
}

/** How a replacement changed the set, by check id. */
export interface AssignmentChanges {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  total: number;
}

export interface Scheduler {
  /** Makes `assignments` the whole set: drops the missing, restarts the changed, keeps the rest running. */
  replace(assignments: readonly Assignment[]): AssignmentChanges;
  /**
   * Runs `check` once now, outside the schedule, and resolves with its outcome (submitted
   * nowhere: the caller answers the core with it); null when the satellite stopped meanwhile.
   * It waits for a scheduled run of the same check in flight to end, and the scheduled ticks
   * falling during it are skipped, as behind an overrunning run; runs on demand of one check
   * queue behind each other.
   */
  runNow(check: Assignment): Promise<RunOutcome | null>;
  /** Runs going on now (scheduled or on demand). */
  inFlight(): number;
  /** Ticks skipped because the previous run of the same check was still going, since it was assigned. */
  skippedRuns(checkId: string): number;
  /** Clears every timer and aborts every run; their results are discarded. */
  stop(): void;
}

interface Run {
  controller: AbortController;
  timeout: TimerHandle | undefined;
  /** Set when the check was unassigned or changed: the run's result goes nowhere. */
  discarded: boolean;
  /** Settles when the run ended, however. */
  ended: Promise<void>;
}

/** A run's outcome and when it started, before it becomes a result frame or a runResult. */
interface Probed {
  startedAt: number;
  durationMs: number;
  outcome: ProbeResult;
}

interface Entry {
  assignment: Assignment;
  fingerprint: string;
  intervalMs: number;
  nextAt: number;
  timer: TimerHandle | undefined;
  run: Run | undefined;
  skipped: number;
}

// The probe could not run at all: that is this satellite's problem, not the target's.
const UNKNOWN_TYPE: ProbeResult = {
  status: "error",
  detail: { reason: "this satellite cannot run checks of this type", error: { code: "unsupported_type", message: "no probe for this check type" } },
};

/** Equal assignments give equal text whatever the order of their config's keys. */
function fingerprintOf(assignment: Assignment): string {
  return JSON.stringify(assignment, (_key, value: unknown) =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  );
}

/** Settles with the probe's outcome, or rejects with the abort reason as soon as `signal` aborts. */
function untilAborted<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    void Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function failureDetail(error: unknown, timeoutMs: number, timedOut: boolean, stalledMs: number): ProbeResult {
  // Down, unless this agent was too busy to give the run its time (then error: not the target's fault).
  if (timedOut) return timedOutResult(timeoutMs, stalledMs);
  // A probe that throws (rather than report the target down) failed itself.
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 1_000);
  return { status: "error", detail: { reason: message, error: { code: "probe_error", message } } };
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { clock, logger } = options;
  const newResultId = options.newResultId ?? randomUUID;
  const entries = new Map<string, Entry>();

  const schedule = (entry: Entry, at: number) => {
    entry.nextAt = at;
    entry.timer = clock.setTimeout(() => tick(entry), Math.max(0, at - clock.now()));
  };

  const tick = (entry: Entry) => {
    // Anchored to the previous slot so runs do not drift; after a stall, no burst of catch-up runs.
    const now = clock.now();
    const next = entry.nextAt + entry.intervalMs;
    schedule(entry, next > now ? next : now + entry.intervalMs);
    if (entry.run || onDemand.has(entry.assignment.checkId)) {
      entry.skipped += 1;
      logger.warn({ checkId: entry.assignment.checkId, skippedRuns: entry.skipped }, "skipped a run: the previous run of this check is still going");
      return;
    }
    void execute(entry);
  };

  /** A run not started yet: its controller, and `ended` to settle once it is over. */
  const newRun = (): { run: Run; end: () => void } => {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    return { run: { controller: new AbortController(), timeout: undefined, discarded: false, ended }, end };
  };

  /** Probes `assignment` once within its timeout; never throws. */
  const probeOnce = async (assignment: Assignment, run: Run): Promise<Probed> => {
    let timedOut = false;
    run.timeout = clock.setTimeout(() => {
      timedOut = true;
      run.controller.abort(new DOMException(`timed out after ${assignment.timeoutMs} ms`, "TimeoutError"));
    }, assignment.timeoutMs);
    const startedAt = clock.now();
    const probe = options.probes.get(assignment.type);
    const stall = watchLoopStall();
    let outcome: ProbeResult;
    try {
      outcome = probe ? await untilAborted(() => probe(assignment, run.controller.signal), run.controller.signal) : UNKNOWN_TYPE;
    } catch (error) {
      outcome = failureDetail(error, assignment.timeoutMs, timedOut, stall.stalledMs());
    } finally {
      clock.clearTimeout(run.timeout);
      stall.release();
    }
    return { startedAt, durationMs: Math.max(0, clock.now() - startedAt), outcome };
  };

  const execute = async (entry: Entry) => {
    const { assignment } = entry;
    const { run, end } = newRun();
    entry.run = run;
    let probed: Probed;
    try {
      probed = await probeOnce(assignment, run);
    } finally {
      if (entry.run === run) entry.run = undefined;
      end();
    }
    if (run.discarded) return;
    options.onResult({
      type: "result",
      resultId: newResultId(),
      checkId: assignment.checkId,
      startedAt: new Date(probed.startedAt).toISOString(),
      durationMs: probed.durationMs,
      status: probed.outcome.status,
      detail: probed.outcome.detail,
    });
  };

  /** Runs on demand going on, by check id (at most one per check: the others queue in `lanes`). */
  const onDemand = new Map<string, Run>();
  /** The last run on demand queued per check: the next one starts after it. */
  const lanes = new Map<string, Promise<unknown>>();
  let stopped = false;

  const runOnDemand = async (check: Assignment): Promise<RunOutcome | null> => {
    // A scheduled run of this check in flight ends first (within its timeout); the loop
    // re-reads, and nothing else runs between its last read and the claim below.
    for (let entry = entries.get(check.checkId); entry?.run; entry = entries.get(check.checkId)) await entry.run.ended;
    if (stopped) return null;
    const { run, end } = newRun();
    onDemand.set(check.checkId, run);
    let probed: Probed;
    try {
      probed = await probeOnce(check, run);
    } finally {
      onDemand.delete(check.checkId);
      end();
    }
    if (run.discarded) return null;
    return { startedAt: new Date(probed.startedAt).toISOString(), durationMs: probed.durationMs, status: probed.outcome.status, detail: probed.outcome.detail };
  };

  const drop = (entry: Entry, why: string) => {
    clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.run) {
      clock.clearTimeout(entry.run.timeout);
      entry.run.discarded = true;
      entry.run.controller.abort(new DOMException(why, "AbortError"));
      entry.run = undefined;
    }
  };

  const add = (assignment: Assignment, fingerprint: string) => {
    const intervalMs = assignment.intervalSeconds * 1000;
    const entry: Entry = { assignment, fingerprint, intervalMs, nextAt: 0, timer: undefined, run: undefined, skipped: 0 };
    entries.set(assignment.checkId, entry);
    // A random first offset spreads checks assigned together (and a fleet reconnecting together).
    schedule(entry, clock.now() + Math.floor(options.random() * intervalMs));
    if (!options.probes.get(assignment.type))
      logger.warn({ checkId: assignment.checkId, checkType: assignment.type }, "assigned a check of a type this satellite cannot run; it will report down");
  };

  return {
    replace(assignments) {
      const wanted = new Map(assignments.map((assignment) => [assignment.checkId, assignment]));
      const changes: AssignmentChanges = { added: 0, removed: 0, changed: 0, unchanged: 0, total: wanted.size };
      for (const [checkId, entry] of entries) {
        if (wanted.has(checkId)) continue;
        drop(entry, "check unassigned");
        entries.delete(checkId);
        changes.removed += 1;
      }
      for (const [checkId, assignment] of wanted) {
        const fingerprint = fingerprintOf(assignment);
        const existing = entries.get(checkId);
        if (existing?.fingerprint === fingerprint) {
          changes.unchanged += 1;
          continue;
        }
        if (existing) drop(existing, "check changed");
        add(assignment, fingerprint);
        changes[existing ? "changed" : "added"] += 1;
      }
      return changes;
    },
    runNow(check) {
      if (stopped) return Promise.resolve(null);
      const queued = (lanes.get(check.checkId) ?? Promise.resolve()).then(() => runOnDemand(check));
      const tail = queued.catch(() => undefined);
      lanes.set(check.checkId, tail);
      void tail.then(() => lanes.get(check.checkId) === tail && lanes.delete(check.checkId));
      return queued;
    },
    inFlight: () => [...entries.values()].filter((entry) => entry.run !== undefined).length + onDemand.size,
    skippedRuns: (checkId) => entries.get(checkId)?.skipped ?? 0,
    stop() {
      stopped = true;
      for (const entry of entries.values()) drop(entry, "satellite stopping");
      entries.clear();
      for (const run of onDemand.values()) {
        clock.clearTimeout(run.timeout);
        run.discarded = true;
        run.controller.abort(new DOMException("satellite stopping", "AbortError"));
      }
    },
  };
}
