// A steady rate for benchmark drivers: ticks on an absolute schedule, so a late tick does not
// shift every later one (the rate holds unless a tick itself holds the loop back).
import { setTimeout as sleep } from "node:timers/promises";

/** Calls `tick(i)` `rate` times a second until `ms` passed (a tick may hold it back); returns how many. */
export async function paced(rate: number, ms: number, tick: (i: number) => unknown, start = 0): Promise<number> {
  const began = performance.now();
  let i = 0;
  while (performance.now() - began < ms) {
    const due = began + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await tick(start + i++);
  }
  return i;
}
