// The satellite WebSocket gateway (`/ws/satellite`) on the core's HTTP server: accepts
// sockets, keeps this process's satellite → socket map, tells the assigning module of every
// session it opens and closes, and closes revoked satellites' sockets when any process
// broadcasts their revocation.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { HEARTBEAT_INTERVAL_MS, HELLO_TIMEOUT_MS, MAX_FRAME_BYTES, type ShutdownReason } from "@vantage/protocol";
import type { Registry } from "prom-client";
import { WebSocketServer } from "ws";
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import type { HeartbeatBuffer } from "../connection/heartbeat-buffer.ts";
import { SATELLITE_REVOKED_CHANNEL, parseRevocation } from "../registry/revocations.ts";
import { type ClientAddressOf, createClientAddressOf, type FailureLimit, FailureLimiter } from "../../auth/index.ts";
import type { AssignmentsFor, AuthenticateSatellite, GatewayContext, ResultSink, SatelliteSession, SessionObserver } from "./gateway-context.ts";
import { type ConnectionEdgesOptions, createConnectionEdges, type EdgeRecorder } from "./connection-edges.ts";
import { createGatewayMetrics } from "./gateway-metrics.ts";
import { ResultDeduplicator } from "./result-deduplicator.ts";
import { SatelliteConnection } from "./satellite-connection.ts";

export const SATELLITE_GATEWAY_PATH = "/ws/satellite";

export interface SatelliteGatewayOptions {
  /** Records connects and closes, many in one transaction (see connection-edges.ts). */
  satellites: EdgeRecorder;
  /** How connects and closes are coalesced (default: 2 ms after the previous batch, 1,000 at most). */
  edgeBatching?: ConnectionEdgesOptions;
  /** Where heartbeats go: they never touch the database one by one. Flushed once more on stop, before the handover. */
  heartbeats: Pick<HeartbeatBuffer, "record" | "flush">;
  /** Checks hello credentials (the registry's verifyCredentials). */
  authenticate: AuthenticateSatellite;
  /**
   * Whether a hello's token is checked in its connected edge's own transaction (against the
   * stored SHA-256, see markConnectedMany): a connect then costs no lookup of its own. `authenticate`
   * still checks what that cannot (a malformed id, a slow hash, a hello over the failure limit).
   * Default false: every hello goes through `authenticate` first (tests stand in for it).
   */
  checkTokensInConnect?: boolean;
  logger: Logger;
  /** This core process: recorded as the holder of the satellites it connects. */
  instanceId?: string;
  /** Revocations arrive through it; without one, only `revoke()` closes sockets. */
  hub?: NotificationHub;
  /** A satellite's full assignment set for its welcome (default: none until the checks module supplies it). */
  assignmentsFor?: AssignmentsFor;
  /** Told of every session opened and closed here: the checks module pushes later changes through them. */
  sessionObserver?: SessionObserver;
  /** Stores results (default: discards them, acknowledged). */
  resultSink?: ResultSink;
  /** The instance's metrics registry. */
  registry?: Registry;
  now?: () => number;
  path?: string;
  /** Told to every satellite in `welcome` (default HEARTBEAT_INTERVAL_MS). */
  heartbeatIntervalMs?: number;
  /** Time from open to hello (default HELLO_TIMEOUT_MS). */
  helloTimeoutMs?: number;
  /**
   * Failed logins per client address, and per satellite id, before a hello that needs a slow
   * hash is refused unchecked (default 10 a minute). Cheap checks (SHA-256 tokens) always run.
   */
  authFailureLimit?: FailureLimit;
  /** Sockets one client address may hold open before their credentials checked out (default 32); more are refused with HTTP 429. */
  maxUnauthenticatedPerAddress?: number;
  /** Unsent output a socket may hold before it is cut off as not reading (default 4 MiB). */
  maxSendBufferBytes?: number;
  /** Bad frames per socket before it is closed (default 20 a minute). */
  badFrameLimit?: FailureLimit;
  /** How long acks wait to be batched (default 5 ms). */
  ackDelayMs?: number;
  /** How many result ids this process remembers for deduplication (default 100 000). */
  resultCacheSize?: number;
  /** How long a closing peer may take to answer the close before it is cut off (default 1 s). */
  closeGraceMs?: number;
  /**
   * The client address limits are counted under, from the TCP peer and the forwarding
   * headers (default: the TCP peer). main.ts passes the one that trusts VANTAGE_TRUSTED_PROXIES.
   */
  clientAddressOf?: ClientAddressOf;
}

export interface SatelliteGateway {
  /** Serves upgrades on the server and subscribes to revocations. */
  start(server: Server): Promise<void>;
  /**
   * Refuses new sockets and hands every open one over: its buffered heartbeats written, then
   * `shutdown {server_shutdown}`; no disconnect is recorded. Resolves once all are closed.
   */
  stop(): Promise<void>;
  /** The satellite's open session, if its socket is on this process. */
  session(satelliteId: string): SatelliteSession | undefined;
  /** Sends `shutdown {reason}` and closes the satellite's socket, if it is on this process. */
  revoke(satelliteId: string, reason: ShutdownReason): boolean;
  isConnected(satelliteId: string): boolean;
  /** Authenticated sockets on this process. */
  connectedCount(): number;
}

/** The path of an upgrade's request target, as a URL parser reads it ("" when it cannot). */
function pathnameOf(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://gateway").pathname;
  } catch {
    return "";
  }
}

const noAssignments: AssignmentsFor = async () => [];
const discardResults: ResultSink = async () => undefined;
const unobserved: SessionObserver = { opened: () => undefined, closed: () => undefined };

export function createSatelliteGateway(options: SatelliteGatewayOptions): SatelliteGateway {
  const log = options.logger.child({ component: "satellite-gateway" });
  const now = options.now ?? Date.now;
  const path = options.path ?? SATELLITE_GATEWAY_PATH;
  const clientAddressOf = options.clientAddressOf ?? createClientAddressOf();
  const maxUnauthenticated = options.maxUnauthenticatedPerAddress ?? 32;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, clientTracking: false, perMessageDeflate: false });
  /** Authenticated sockets by satellite id. */
  const sessions = new Map<string, SatelliteConnection>();
  /** Every socket from upgrade to close, authenticated or not. */
  const sockets = new Set<SatelliteConnection>();
  const settling = new Set<Promise<void>>();
  /**
   * Sockets whose credentials were not checked yet, and their count by client address: one
   * address cannot hold thousands. A socket leaves once its token checked out, not at its
   * welcome: in a storm its connected edge waits for a batch, and satellites behind one NAT
   * that proved who they are must not be refused for that. (A hello whose token its connected
   * edge checks leaves when that commits; those are at most authFailureLimit.max per address,
   * since their attempts count against the failed-login limit, and the rest are checked first.)
   */
  const unchecked = new Set<SatelliteConnection>();
  const unauthenticated = new Map<string, number>();
  const authenticatedOrClosed = (connection: SatelliteConnection) => {
    if (!unchecked.delete(connection)) return;
    const left = unauthenticated.get(connection.address)! - 1;
    if (left === 0) unauthenticated.delete(connection.address);
    else unauthenticated.set(connection.address, left);
  };
  const connectQueues = new Map<string, Promise<void>>();
  let allClosed: (() => void) | undefined;
  let server: Server | undefined;
  let stopping = false;
  let unsubscribe: (() => Promise<void>) | undefined;

  const observer = options.sessionObserver ?? unobserved;
  // A failing observer must not break the socket it was told about, nor the others.
  const tell = (event: keyof SessionObserver, session: SatelliteSession) => {
    try {
      observer[event](session);
    } catch (error) {
      log.error({ err: error, satelliteId: session.satelliteId, event }, "a satellite session observer threw");
    }
  };

  const context: GatewayContext = {
    logger: log,
    instanceId: options.instanceId,
    now,
    edges: createConnectionEdges(options.satellites, options.edgeBatching),
    heartbeats: options.heartbeats,
    authenticate: options.authenticate,
    checkTokensInConnect: options.checkTokensInConnect ?? false,
    assignmentsFor: options.assignmentsFor ?? noAssignments,
    resultSink: options.resultSink ?? discardResults,
    sessions: observer,
    metrics: createGatewayMetrics(options.registry, () => sessions.size),
    authFailures: new FailureLimiter(options.authFailureLimit ?? { max: 10, windowMs: 60_000 }, now),
    results: new ResultDeduplicator(options.resultCacheSize ?? 100_000),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    helloTimeoutMs: options.helloTimeoutMs ?? HELLO_TIMEOUT_MS,
    badFrameLimit: options.badFrameLimit ?? { max: 20, windowMs: 60_000 },
    maxSendBufferBytes: options.maxSendBufferBytes ?? 4 * 1024 * 1024,
    ackDelayMs: options.ackDelayMs ?? 5,
    closeGraceMs: options.closeGraceMs ?? 1000,

    serializeConnects(satelliteId, connect) {
      const next = (connectQueues.get(satelliteId) ?? Promise.resolve()).then(connect);
      const tail = next.catch(() => undefined);
      connectQueues.set(satelliteId, tail);
      void tail.then(() => connectQueues.get(satelliteId) === tail && connectQueues.delete(satelliteId));
      return next;
    },

    authenticated: authenticatedOrClosed,

    register(connection) {
      const previous = sessions.get(connection.satelliteId!);
      sessions.set(connection.satelliteId!, connection);
      // Its close is stale by now (this session owns the row) and records nothing.
      previous?.shutdown("replaced");
    },

    opened(connection) {
      // Replaced meanwhile (a newer socket registered in the same turn): nothing to tell.
      if (sessions.get(connection.satelliteId!) === connection) tell("opened", connection.session!);
    },

    closed(connection, settled) {
      authenticatedOrClosed(connection);
      sockets.delete(connection);
      if (sessions.get(connection.satelliteId!) === connection) {
        sessions.delete(connection.satelliteId!);
        tell("closed", connection.session!);
      }
      settling.add(settled);
      void settled.finally(() => settling.delete(settled));
      if (sockets.size === 0) allClosed?.();
    },
  };

  const refuse = (socket: Duplex, status: string) => {
    socket.on("error", () => socket.destroy()); // a peer that reset meanwhile must not crash the process
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A satellite's target is the path as is: no parser for it (one per connect in a storm).
    if (request.url !== path && pathnameOf(request.url) !== path) {
      // Another upgrade handler may own that path; if there is none, answer for it.
      if (server?.listenerCount("upgrade") === 1) refuse(socket, "404 Not Found");
      return;
    }
    if (stopping) return refuse(socket, "503 Service Unavailable");
    const address = clientAddressOf(request.socket.remoteAddress, request.headers);
    if ((unauthenticated.get(address) ?? 0) >= maxUnauthenticated) {
      context.metrics.refusedUpgrades.inc({ reason: "unauthenticated_limit" });
      return refuse(socket, "429 Too Many Requests");
    }
    // handleUpgrade calls back synchronously (no verifyClient): no other upgrade runs between check and count.
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (stopping) return ws.terminate();
      // Finds peers that vanished without a FIN (power loss, NAT drop) so their sockets close.
      request.socket.setKeepAlive(true, 30_000);
      const connection = new SatelliteConnection(ws, address, context);
      unchecked.add(connection);
      unauthenticated.set(address, (unauthenticated.get(address) ?? 0) + 1);
      sockets.add(connection);
    });
  };

  // Also sockets still between hello and welcome: their credentials may have been checked
  // just before the revocation committed. A rare event, so a scan of this process's sockets.
  const revoke = (satelliteId: string, reason: ShutdownReason): boolean => {
    let found = false;
    for (const connection of sockets) {
      if (connection.satelliteId !== satelliteId) continue;
      found = true;
      connection.shutdown(reason);
    }
    if (found) log.info({ satelliteId, reason }, "closed a revoked satellite's socket");
    return found;
  };

  return {
    async start(httpServer) {
      server = httpServer;
      server.on("upgrade", onUpgrade);
      if (options.hub) {
        unsubscribe = await options.hub.subscribe(SATELLITE_REVOKED_CHANNEL, (payload) => {
          const revocation = parseRevocation(payload);
          if (revocation) revoke(revocation.satelliteId, revocation.reason);
          else log.warn({ payload }, "ignored a malformed revocation");
        });
      }
    },

    async stop() {
      stopping = true;
      server?.off("upgrade", onUpgrade);
      await unsubscribe?.();
      unsubscribe = undefined;
      if (sockets.size > 0) {
        const closedAll = new Promise<void>((resolve) => (allClosed = resolve));
        // The handover, in this order: no heartbeat is taken from these sockets any more, the
        // ones buffered are written, then the satellites are told. So nothing of theirs is
        // written here after they may have reconnected to another core: such a late write
        // could land in the middle of that connect and make it a recorded change.
        for (const connection of sockets) connection.beginHandover();
        await options.heartbeats
          .flush()
          .catch((error: unknown) => log.warn({ err: error }, "could not write the buffered heartbeats before handing the satellites over"));
        for (const connection of sockets) connection.shutdown("server_shutdown");
        await closedAll;
      }
      await Promise.all(settling);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },

    session(satelliteId) {
      const connection = sessions.get(satelliteId);
      return connection?.isOpen() ? connection.session : undefined;
    },

    revoke,
    isConnected: (satelliteId) => sessions.get(satelliteId)?.isOpen() ?? false,
    connectedCount: () => sessions.size,
  };
}
