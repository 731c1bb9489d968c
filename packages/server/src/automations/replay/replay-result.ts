// What a replay found, kept bounded whatever the range: every would-be run and skip is
// counted (by reason, by UTC day), and the first `maxListed` of each are kept in full.
import type { SkipReason, Verdict } from "../runs/automation-runs.ts";
import type { ReplayStep } from "./simulate-run.ts";

export interface ReplayDecisionBase {
  /** When it was decided on the virtual clock (the change, or the end of a `for:`). */
  at: string;
  trigger: { id: string; event: string };
  /** The change that fired the trigger (for a `for:` run, the one that started its timer). */
  changeId: string;
  entity: { kind: string; id: string };
  verdicts: Verdict[];
}

export interface ReplayRun extends ReplayDecisionBase {
  /** Unique within the replay, in decision order. */
  id: string;
  status: "succeeded" | "failed" | "waiting" | "cancelled" | "queued";
  contextKey: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error?: string;
  stopReason?: string | null;
  /** The actions it would have taken, inputs rendered (secrets masked); none was executed. */
  steps: ReplayStep[];
}

export interface ReplaySkip extends ReplayDecisionBase {
  reason: SkipReason;
  detail: Record<string, unknown>;
}

export interface ReplayGap {
  from: string;
  to: string;
  reason: "before_retention" | "not_yet_recorded";
}

export interface ReplayDay {
  day: string;
  runs: number;
  skips: number;
}

export interface ReplayResult {
  from: string;
  to: string;
  /** Changes of the kinds the definition listens to, read in the range. */
  changes: number;
  runs: number;
  skips: number;
  skipsByReason: Partial<Record<SkipReason, number>>;
  days: ReplayDay[];
  /** The first runs and skips in full, in decision order. */
  listedRuns: ReplayRun[];
  listedSkips: ReplaySkip[];
  /** More runs or skips were counted than listed. */
  truncated: boolean;
  /** `for:` timers still counting when the range ended (neither run nor skipped). */
  pendingTimers: number;
  /** Parts of the range no recorded history covers. */
  gaps: ReplayGap[];
}

export const DEFAULT_MAX_LISTED = 1_000;

export function createReplayTally(range: { from: number; to: number }, maxListed = DEFAULT_MAX_LISTED) {
  const result: ReplayResult = {
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    changes: 0,
    runs: 0,
    skips: 0,
    skipsByReason: {},
    days: [],
    listedRuns: [],
    listedSkips: [],
    truncated: false,
    pendingTimers: 0,
    gaps: [],
  };
  const days = new Map<string, ReplayDay>();
  const dayOf = (at: string) => {
    const day = at.slice(0, 10);
    let entry = days.get(day);
    if (!entry) days.set(day, (entry = { day, runs: 0, skips: 0 }));
    return entry;
  };
  return {
    result,
    /** Counts a run; returns it if listed (a restart or queue may still change its fate). */
    run(run: ReplayRun): ReplayRun {
      result.runs += 1;
      dayOf(run.at).runs += 1;
      if (result.listedRuns.length < maxListed) result.listedRuns.push(run);
      else result.truncated = true;
      return run;
    },
    skip(skip: ReplaySkip): void {
      result.skips += 1;
      dayOf(skip.at).skips += 1;
      result.skipsByReason[skip.reason] = (result.skipsByReason[skip.reason] ?? 0) + 1;
      if (result.listedSkips.length < maxListed) result.listedSkips.push(skip);
      else result.truncated = true;
    },
    finish(): ReplayResult {
      result.days = [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
      return result;
    },
  };
}
