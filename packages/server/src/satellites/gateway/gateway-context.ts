// What every connection of one gateway shares: the resolved options, seams, metrics and
// the per-process bookkeeping (the session map, login failures, seen results).
import type { Assignment, ResultFrame } from "@vantage/protocol";
import type { Logger } from "../../log.ts";
import type { HeartbeatBuffer } from "../heartbeat-buffer.ts";
import type { FailureLimit, FailureLimiter, VerifyOptions } from "../../auth/index.ts";
import type { ConnectionEdges } from "./connection-edges.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { ResultDeduplicator } from "./result-deduplicator.ts";
import type { SatelliteConnection } from "./satellite-connection.ts";

/** A satellite whose credentials checked out. */
export interface AuthenticatedSatellite {
  id: string;
  name: string;
  region: string;
  offlineThresholdMs: number | null;
}

/**
 * Checks a hello's credentials: the satellite, null for an unknown id or a wrong token, or
 * "refused" when only a slow hash could tell and `options.slow` is false.
 */
export type AuthenticateSatellite = (satelliteId: string, token: string, options: VerifyOptions) => Promise<AuthenticatedSatellite | null | "refused">;

/** The full set of checks a satellite must run now. */
export type AssignmentsFor = (satelliteId: string) => Promise<Assignment[]>;

/** Stores one result of an assigned check; resolving means it is durable (then it is acknowledged). */
export type ResultSink = (satelliteId: string, result: ResultFrame) => Promise<void>;

export interface GatewayContext {
  logger: Logger;
  /** This core process, recorded as the holder of each satellite it connects. */
  instanceId: string | undefined;
  now: () => number;
  /** Records the sockets' connected and disconnected edges, coalesced into batches. */
  edges: ConnectionEdges;
  heartbeats: Pick<HeartbeatBuffer, "record">;
  authenticate: AuthenticateSatellite;
  assignmentsFor: AssignmentsFor;
  resultSink: ResultSink;
  metrics: GatewayMetrics;
  authFailures: FailureLimiter;
  results: ResultDeduplicator;
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  badFrameLimit: FailureLimit;
  /** A socket whose unsent output exceeds this when more is to be sent is cut off: it is not reading. */
  maxSendBufferBytes: number;
  ackDelayMs: number;
  closeGraceMs: number;
  /** Runs connects of one satellite one after another. */
  serializeConnects(satelliteId: string, connect: () => Promise<void>): Promise<void>;
  /** The connection's credentials checked out: it no longer counts against its address's limit. */
  authenticated(connection: SatelliteConnection): void;
  /** The connection is now the satellite's socket on this process; an older one is replaced. */
  register(connection: SatelliteConnection): void;
  /** The socket closed; `settled` resolves once its disconnect was recorded. */
  closed(connection: SatelliteConnection, settled: Promise<void>): void;
}
