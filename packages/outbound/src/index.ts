// The public face of @vantage/outbound: the one client for requests to URLs and hosts users
// configure, in the core and in the satellite agent. Imports nothing of ours.
export { createOutboundClient } from "./outbound-client.ts";
export type {
  ClosableOutboundClient,
  ExchangeFacts,
  ExchangeTimings,
  OutboundClient,
  OutboundClientOptions,
  OutboundFailure,
  OutboundRequest,
  OutboundResponse,
  OutboundResult,
  RedirectPolicy,
} from "./outbound-client.ts";
export type { ExchangeTlsSettings } from "./exchange-connections.ts";
export { openConnection } from "./open-connection.ts";
export type { ConnectionTarget, OpenedConnection, TlsSettings } from "./open-connection.ts";
export { ConnectionError } from "./connection-error.ts";
export type { ConnectionPhase, ConnectionTimings } from "./connection-error.ts";
export type { PeerCertificate } from "./peer-certificate.ts";
export { resolveAddresses } from "./resolve-address.ts";
export type { AddressPolicy, IpFamily, ResolvedAddress } from "./resolve-address.ts";
export { isRetryable, isRetryableStatus } from "./retryable.ts";
export type { FailureKind } from "./retryable.ts";
export { isCredentialHeader } from "./credential-headers.ts";
export { withTimeout } from "./with-timeout.ts";

/** Identifies one logical request across its retries, so a receiver can drop a repeat. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
