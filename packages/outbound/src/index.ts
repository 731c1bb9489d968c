// The public face of @vantage/outbound: the one HTTP client for requests to URLs users
// configure, in the core and in the satellite agent. Imports nothing of ours.
export { createOutboundClient } from "./outbound-client.ts";
export type { OutboundClient, OutboundClientOptions, OutboundFailure, OutboundRequest, OutboundResponse, OutboundResult, RedirectPolicy } from "./outbound-client.ts";
export { isRetryable, isRetryableStatus } from "./retryable.ts";
export type { FailureKind } from "./retryable.ts";
export { isCredentialHeader } from "./credential-headers.ts";
export { withTimeout } from "./with-timeout.ts";

/** Identifies one logical request across its retries, so a receiver can drop a repeat. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
