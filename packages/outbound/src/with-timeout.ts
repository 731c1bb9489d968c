// One signal for "the caller cancelled or the time ran out": every outbound exchange (HTTP
// through the client, SMTP in the core's email sender) is bounded by it.

/** The caller's signal and a timeout of `timeoutMs` as one signal. */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

