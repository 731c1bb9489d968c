// One signal for "the caller cancelled or the time ran out": every outbound exchange (HTTP
// through the client, SMTP in the core's email sender) is bounded by it.

/**
 * The caller's signal and a timeout of `timeoutMs` as one signal, aborted with a
 * `TimeoutError` when the time runs out. Not `AbortSignal.any([signal, AbortSignal.timeout()])`:
 * Node (20, and 22 until fixed) holds a timeout signal only weakly, so inside `any()` it can be
 * garbage-collected before it fires and a request to a receiver that never answers hangs
 * forever (nodejs/node#57736). A plain timer holds the controller until it fires or the
 * signal aborts.
 */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation timed out after ${timeoutMs} ms.`, "TimeoutError")), timeoutMs);
  // The exchange in flight keeps the process alive, not its deadline.
  timer.unref();
  const forward = () => controller.abort(signal!.reason);
  controller.signal.addEventListener(
    "abort",
    () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    },
    { once: true },
  );
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });
  return controller.signal;
}
