// The one deadline of every outbound exchange: it fires on time, whatever the garbage
// collector does meanwhile, and a caller's cancel wins with its own reason.
import { execFile } from "node:child_process";
import { getEventListeners, setMaxListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { withTimeout } from "../src/with-timeout.ts";

const run = promisify(execFile);

describe("withTimeout", () => {
  it("aborts with a TimeoutError even when garbage collection runs while it waits", async () => {
    const script = fileURLToPath(new URL("./support/timeout-under-gc.ts", import.meta.url));
    const { stdout } = await run(process.execPath, ["--expose-gc", "--import", "tsx", script], { timeout: 20_000 });
    expect(stdout).toBe("TimeoutError");
  });

  it("aborts with the caller's reason when the caller cancels first", async () => {
    const caller = new AbortController();
    const { signal } = withTimeout(caller.signal, 60_000);
    caller.abort(new Error("core stopping"));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("core stopping");
  });

  it("is aborted at once for a caller that already cancelled", () => {
    const caller = new AbortController();
    caller.abort(new Error("gone"));
    expect((withTimeout(caller.signal, 60_000).signal.reason as Error).message).toBe("gone");
  });

  it("lets go of the caller's signal once released, so a long-lived caller collects no listeners", () => {
    const caller = new AbortController();
    // Twenty at once on purpose (a long-lived caller's exchanges in flight): not a leak to warn about.
    setMaxListeners(20, caller.signal);
    const deadlines = Array.from({ length: 20 }, () => withTimeout(caller.signal, 60_000));
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(20);
    for (const deadline of deadlines) deadline.release();
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    expect(deadlines.some((deadline) => deadline.signal.aborted)).toBe(false);
  });
});
