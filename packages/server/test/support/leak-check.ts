// Fails a test file that leaves a pool, socket or server open: those leaks hang shutdowns
// in production. Compares live handles after the file with those before it. (Timers are
// not compared: vitest's own hook timers come and go, so their count proves nothing.)
import { afterAll, beforeAll } from "vitest";

const WATCHED = new Set(["TCPSocketWrap", "TCPServerWrap", "TLSWrap"]);

function countWatched(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    if (WATCHED.has(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

function leaksSince(baseline: Map<string, number>): string[] {
  return [...countWatched()]
    .filter(([type, count]) => count > (baseline.get(type) ?? 0))
    .map(([type, count]) => `${count - (baseline.get(type) ?? 0)} × ${type}`);
}

let baseline = new Map<string, number>();

beforeAll(() => {
  baseline = countWatched();
});

afterAll(async () => {
  // Closed sockets leave the handle list a few ticks after their close callback.
  for (let attempt = 0; attempt < 40 && leaksSince(baseline).length > 0; attempt++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (attempt > 10) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const leaks = leaksSince(baseline);
  if (leaks.length > 0) {
    throw new Error(`This test file left handles open: ${leaks.join(", ")}. Close every pool, server and socket it starts.`);
  }
});
