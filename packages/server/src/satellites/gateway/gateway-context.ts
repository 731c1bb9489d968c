// What every connection of one gateway shares: the resolved options, seams, metrics and
// the per-process bookkeeping (the session map, login failures, seen results).
import type { Assignment, ResultFrame, RunOutcome } from "@vantage/protocol";
import type { Logger } from "../../log.ts";
import type { HeartbeatBuffer } from "../connection/heartbeat-buffer.ts";
import type { FailureLimit, FailureLimiter, VerifyOptions } from "../../auth/index.ts";
import type { ConnectionEdges } from "./connection-edges.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { ResultDeduplicator } from "./result-deduplicator.ts";
import type { SatelliteConnection } from "./satellite-connection.ts";

/** A satellite whose credentials checked out, as its registration read at that moment. */
export interface AuthenticatedSatellite {
  id: string;
  name: string;
  region: string;
  tags: readonly string[];
  offlineThresholdMs: number | null;
}

/**
 * Checks a hello's credentials: the satellite, null for an unknown id or a wrong token, or
 * "refused" when only a slow hash could tell and `options.slow` is false.
 */
export type AuthenticateSatellite = (satelliteId: string, token: string, options: VerifyOptions) => Promise<AuthenticatedSatellite | null | "refused">;

/** The full set of checks a satellite must run now, for its welcome. */
export type AssignmentsFor = (satellite: AuthenticatedSatellite, capabilities: readonly string[]) => Promise<readonly Assignment[]>;

/** A satellite's open socket on this process, as the modules that assign it checks see it. */
export interface SatelliteSession {
  readonly satelliteId: string;
  readonly sessionId: string;
  /** Its registration as its hello found it; a later edit (region, tags) is not reflected here. */
  readonly satellite: AuthenticatedSatellite;
  /** What its hello announced: probe types, and RUN_ON_DEMAND_CAPABILITY if it takes `run` frames. */
  readonly capabilities: readonly string[];
  /** The agent's version, as its hello said. */
  readonly version: string;
  /** The set it was last given, in welcome or an `assignments` frame. */
  readonly assignments: readonly Assignment[];
  /**
   * Makes `assignments` its set (results are authorized against it) and sends it as an
   * `assignments` frame; false once the socket is no longer open (nothing is sent).
   */
  setAssignments(assignments: readonly Assignment[]): boolean;
  /**
   * Sends `run {requestId, check}` and resolves with the satellite's `runResult` for it.
   * Rejects (`satellite_offline`) when the socket closes first or is not open, and when
   * `signal` aborts (with its reason): the answer is then ignored if it comes. The caller
   * checks the capability first; an agent without it would never answer.
   */
  run(requestId: string, check: Assignment, signal?: AbortSignal): Promise<RunOutcome>;
}

/**
 * Told of every satellite session this process opens (right after its welcome was sent) and
 * closes. A second socket of the same satellite opens a new session; the replaced one is not
 * reported closed. Called synchronously: an observer must not throw (it is logged if it does).
 */
export interface SessionObserver {
  opened(session: SatelliteSession): void;
  closed(session: SatelliteSession): void;
}

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
  /** A hello's token is checked by its connected edge (`tokenHash`), `authenticate` only where that cannot tell. */
  checkTokensInConnect: boolean;
  assignmentsFor: AssignmentsFor;
  resultSink: ResultSink;
  sessions: SessionObserver;
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
  /** Its welcome was sent: the session is open. */
  opened(connection: SatelliteConnection): void;
  /** The socket closed; `settled` resolves once its disconnect was recorded. */
  closed(connection: SatelliteConnection, settled: Promise<void>): void;
}
