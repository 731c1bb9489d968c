// The deadline of one outbound exchange: the caller's cancellation and the exchange's timeout as
// one "aborted", without an AbortSignal for the common case. A webhook over a kept connection
// never opens one, so nothing of it needs a signal: node:http's own `signal` option cost an
// AbortController, its listener and a stream watcher per request (~10 % of the client's CPU,
// bench/outbound-requests). The request in flight is destroyed directly, with the error node's
// option destroys it with; a signal is made only for what needs one (opening a connection).
import type { ClientRequest } from "node:http";

/** What node:http destroys a request with when its `signal` aborts (node's internal AbortError, same name, code and message). */
export class AbortError extends Error {
  override readonly name = "AbortError";
  readonly code = "ABORT_ERR";
  constructor(cause: unknown) {
    super("The operation was aborted", { cause });
  }
}

/** The timer's callback: module-level, so that a deadline costs no closure (thousands a second). */
function expire(deadline: ExchangeDeadline): void {
  deadline.abort(new DOMException(`The operation timed out after ${deadline.timeoutMs} ms.`, "TimeoutError"));
}

/**
 * Aborted when the caller's signal aborts or `timeoutMs` passes, whichever comes first; then
 * `reason` is the caller's reason or a `TimeoutError` (as with-timeout.ts gives). `release()`
 * frees the timer and the listener on the caller's signal once the exchange is over. Not
 * `withTimeout`: see the module's opening; the email sender still uses that one.
 */
export class ExchangeDeadline {
  private readonly timer: NodeJS.Timeout;
  private controller: AbortController | undefined;
  private request: ClientRequest | undefined;
  private abortedWith: { reason: unknown } | undefined;

  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    readonly timeoutMs: number,
  ) {
    this.timer = setTimeout(expire, timeoutMs, this);
    // The exchange in flight keeps the process alive, not its deadline.
    this.timer.unref();
    if (callerSignal?.aborted) this.handleEvent();
    else callerSignal?.addEventListener("abort", this, { once: true });
  }

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** A signal that aborts with the deadline, for code that takes one (opening a connection); made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /**
   * Destroys `request` when the deadline passes (at once if it has): what node:http's `signal`
   * option does. Kept until the exchange ends: destroying a request that already ended, or
   * whose connection went back to its Agent, does nothing (node marks it destroyed).
   */
  watch(request: ClientRequest): void {
    this.request = request;
    if (this.abortedWith) request.destroy(new AbortError(this.abortedWith.reason));
  }

  /** The caller's signal aborted: an EventListener object, so no closure per exchange. */
  handleEvent(): void {
    this.abort(this.callerSignal!.reason);
  }

  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    const request = this.request;
    this.release();
    this.controller?.abort(reason);
    request?.destroy(new AbortError(reason));
  }

  release(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener("abort", this);
    this.request = undefined;
  }
}
