// One signal for "the caller cancelled or the time ran out": every outbound exchange (HTTP
// through the client, SMTP in the core's email sender) is bounded by it.

/** A deadline's signal, and `release()` for an exchange that ended before it: frees its timer and its listener on the caller's signal. */
export interface Deadline {
  signal: AbortSignal;
  release(): void;
}

/**
 * The caller's signal and a timeout of `timeoutMs` as one signal, aborted with a
 * `TimeoutError` when the time runs out. Not `AbortSignal.any([signal, AbortSignal.timeout()])`:
 * Node (20, and 22 until fixed) holds a timeout signal only weakly, so inside `any()` it can be
 * garbage-collected before it fires and a request to a receiver that never answers hangs
 * forever (nodejs/node#57736). A plain timer holds the controller until it fires, the caller
 * aborts, or the exchange releases it — so a long-lived caller signal (a worker's) does not
 * collect a listener per request.
 */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): Deadline {
  const controller = new AbortController();
  // Whichever of the two aborts first releases the other; no listener on our own signal. Made
  // for every exchange (thousands a second): methods and a listener object rather than named
  // arrows, which the runtime (tsx, with esbuild's keepNames) gives a `name` each.
  const deadline: Deadline = {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    },
  };
  const forward = {
    handleEvent() {
      deadline.release();
      controller.abort(signal!.reason);
    },
  };
  const timer = setTimeout(() => {
    deadline.release();
    controller.abort(new DOMException(`The operation timed out after ${timeoutMs} ms.`, "TimeoutError"));
  }, timeoutMs);
  // The exchange in flight keeps the process alive, not its deadline.
  timer.unref();
  if (signal?.aborted) forward.handleEvent();
  else signal?.addEventListener("abort", forward, { once: true });
  return deadline;
}
