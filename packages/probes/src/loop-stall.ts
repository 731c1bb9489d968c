// Whose fault a timeout is. A run times out when the target is slow — or when this process could
// not give the run its time: the event loop blocked, saturated (the answer arrived but waited its
// turn), or the run started late. Measured by a timer that should fire every TICK_MS: what it
// fires late by is time no callback of ours, the run's included, got to run.
// node:timers' own and the clock as it was at load, not the globals: a test's fake clock must
// neither drive, count nor skew a measurement of the real loop.
import { clearInterval, setInterval } from "node:timers";
import type { ProbeResult } from "./probe-result.ts";

const realNow = performance.now.bind(performance);

const TICK_MS = 25;
// A timer fires a millisecond or two late as a rule; only lateness beyond this counts.
const SLACK_MS = 5;
/** The share of a run's timeout this process may take before a timeout is no longer the target's fault. */
export const OVERLOADED_SHARE = 0.25;

let watchers = 0;
let timer: NodeJS.Timeout | undefined;
let lastTick = 0;
let stalledTotal = 0;

const lateness = (now: number) => Math.max(0, now - lastTick - TICK_MS - SLACK_MS);

function tick() {
  const now = realNow();
  stalledTotal += lateness(now);
  lastTick = now;
}

/** Stalled so far, including a stall going on right now (the tick that has not fired yet). */
const stalledNow = () => stalledTotal + lateness(realNow());

export interface StallWatch {
  /** Milliseconds the event loop was stalled since the watch began. */
  stalledMs(): number;
  release(): void;
}

/** Watches the event loop for one run; the timer runs only while some run is watched. */
export function watchLoopStall(): StallWatch {
  if (watchers++ === 0) {
    lastTick = realNow();
    timer = setInterval(tick, TICK_MS);
    // Watching never keeps a process alive.
    timer.unref();
  }
  const from = stalledNow();
  let released = false;
  return {
    // Methods, not named arrows: one watch per run, and the runtime (tsx, with esbuild's keepNames) names each arrow it makes.
    stalledMs() {
      return Math.round(stalledNow() - from);
    },
    release() {
      if (released) return;
      released = true;
      if (--watchers === 0) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}

/**
 * A run that timed out after `timeoutMs`, of which this process took `lostMs` (stalled, or
 * started late): `down` with code `timeout` when the target had its time, else `error` with
 * code `overloaded` — the probe could not run properly, which says nothing of the target.
 */
export function timedOutResult(timeoutMs: number, lostMs: number): ProbeResult {
  if (lostMs >= timeoutMs * OVERLOADED_SHARE) {
    const message =
      `the probe could not run properly: this process was too busy (${Math.round(lostMs)} ms of the ${timeoutMs} ms timeout ` +
      `went to a stalled event loop or a late start), so the timeout says nothing about the target`;
    return { status: "error", detail: { reason: message, error: { code: "overloaded", message } } };
  }
  const message = `no answer within ${timeoutMs} ms`;
  return { status: "down", detail: { reason: message, error: { code: "timeout", message } } };
}

/** A probe's own result, with a timeout judged by `timedOutResult`; any other result as it is. */
export function judgeTimeout(result: ProbeResult, timeoutMs: number, lostMs: number): ProbeResult {
  if (result.status !== "down" || result.detail.error?.code !== "timeout") return result;
  const judged = timedOutResult(timeoutMs, lostMs);
  return judged.status === "down" ? result : { status: judged.status, detail: { ...result.detail, ...judged.detail } };
}
