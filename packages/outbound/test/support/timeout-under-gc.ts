// Run by with-timeout.test.ts in a child `node --expose-gc`: a deadline must fire even when
// garbage collection runs while it waits. Prints the abort reason's name, or "never".
import { withTimeout } from "../../src/with-timeout.ts";

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error("run with --expose-gc");
const caller = new AbortController();
const { signal } = withTimeout(caller.signal, 100);
const outcome = await new Promise<string>((resolve) => {
  signal.addEventListener("abort", () => resolve((signal.reason as Error).name), { once: true });
  setTimeout(() => resolve("never"), 2_000);
  // Collect repeatedly while the deadline is pending, as a busy core does.
  const pressure = setInterval(() => collect(), 10);
  setTimeout(() => clearInterval(pressure), 300);
});
process.stdout.write(outcome);
