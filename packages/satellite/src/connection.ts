// The agent's link to the core: one WebSocket session at a time (hello → welcome →
// heartbeats, assignments, results, acks), reconnecting with backoff until stopped or told
// something only the operator can fix.
import {
  type Assignment,
  type BackoffPolicy,
  type CoreFrame,
  HELLO_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  type RejectedReason,
  type ResultFrame,
  type RunOutcome,
  type SatelliteFrame,
  type ShutdownReason,
  coreFrameSchema,
  createBackoff,
  parseFrame,
} from "@vantage/protocol";
import WebSocket from "ws";
import { type Clock, type Random, type TimerHandle, sleep } from "./clock.ts";
import { SatelliteError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { ResultBuffer } from "./result-buffer.ts";
import type { Secret } from "./secret.ts";

/**
 * Reconnect delays: up to 1 s, doubling to up to 30 s, with full jitter, so a fleet cut off at
 * the same moment does not come back at the same moment.
 */
export const RECONNECT_BACKOFF = { baseMs: 1_000, maxMs: 30_000, jitter: "full" } as const satisfies BackoffPolicy;

/**
 * A session is healthy when the core welcomed it and it lasted at least this long (the
 * longest backoff): only then does the next reconnect start from the shortest delay again.
 * A core that welcomes and drops the agent at once is still backed off exponentially.
 */
export const HEALTHY_SESSION_MS = RECONNECT_BACKOFF.maxMs;

/** How long the TCP + HTTP upgrade may take before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The core answers a hello within its own hello timeout; give it that and some slack. */
const WELCOME_TIMEOUT_MS = HELLO_TIMEOUT_MS + 5_000;

/** A close handshake that takes longer than this is cut short. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Heartbeats in a row after which nothing at all came back (no pong to their WebSocket ping,
 * no frame) before the connection is taken for dead: a core that vanished without closing.
 */
const SILENT_HEARTBEATS_LIMIT = 2;

/**
 * OpenSSL's certificate verification failures, as Node names them: the core's certificate is
 * not one this agent can trust. Retrying cannot help; the operator must fix the URL, the
 * certificate or the trusted CA (--ca-file).
 */
const TLS_VERIFICATION_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function tlsVerdict(error: Error | undefined): Verdict | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !TLS_VERIFICATION_CODES.has(code)) return undefined;
  return fatal(
    "tls_unverified",
    `cannot verify the core's TLS certificate (${code}: ${error!.message}): check --url, renew the core's certificate, or trust its CA with --ca-file`,
  );
}

export const CREDENTIALS_REJECTED_MESSAGE = "the core rejected this satellite's credentials: check --id and --token, or rotate the token";

interface Verdict {
  /** Set when reconnecting cannot help: the agent exits with code 2. */
  fatal?: SatelliteError;
  /**
   * The core handed this satellite over (it is shutting down, e.g. in a rolling deploy): the
   * next attempt starts from the shortest backoff, since another core is likely up, and the
   * satellite must be back within its offline threshold.
   */
  handover?: boolean;
  message: string;
}

const fatal = (code: string, message: string): Verdict => ({ fatal: new SatelliteError(code, message, { exitCode: 2 }), message });

const REJECTIONS: Record<RejectedReason, Verdict> = {
  invalid_credentials: fatal("invalid_credentials", CREDENTIALS_REJECTED_MESSAGE),
  rate_limited: { message: "the core is rate-limiting this satellite's connection attempts" },
  hello_timeout: { message: "the core gave up waiting for this satellite's hello" },
  hello_expected: { message: "the core expected a hello first" },
};

const SHUTDOWNS: Record<ShutdownReason, Verdict> = {
  deleted: fatal("satellite_deleted", "this satellite was deleted on the core: create it again and start the agent with the new id and token"),
  token_rotated: fatal("token_rotated", "this satellite's token was rotated on the core: restart the agent with the new token"),
  server_shutdown: { message: "the core process is shutting down", handover: true },
  replaced: { message: "a newer connection with this satellite's id replaced this one (is a second agent running with the same --id?)" },
};

export interface ConnectionOptions {
  /** ws:// or wss:// URL of the core's satellite endpoint. */
  url: string;
  satelliteId: string;
  token: Secret;
  /** PEM certificates to trust for wss:// besides the system's (a private CA). */
  ca?: string;
  version: string;
  capabilities: string[];
  /** Results to send; sent while welcomed, and all of them again after every reconnect. */
  buffer: ResultBuffer;
  /** The full desired assignment set, from every welcome and assignments frame. */
  onAssignments: (assignments: Assignment[]) => void;
  /**
   * Runs a check once now for the core's `run` frame; its outcome is sent back as `runResult`
   * on the same session (lost with it: the core then reports a timeout). Null: nothing to send.
   */
  onRun: (check: Assignment) => Promise<RunOutcome | null>;
  /** Check runs going on now, for heartbeats. */
  inFlight: () => number;
  logger: Logger;
  clock: Clock;
  random: Random;
  backoff?: { baseMs: number; maxMs: number };
  healthySessionMs?: number;
}

export type ConnectionEnd = { kind: "stopped" } | { kind: "fatal"; error: SatelliteError };

export interface Connection {
  /** Connects, and reconnects, until stop() or a fatal answer; resolves with which. Idempotent. */
  start(): Promise<ConnectionEnd>;
  /** Says bye if welcomed, closes, stops reconnecting; resolves when the socket is closed. */
  stop(): Promise<void>;
}

interface SessionEnd {
  welcomed: boolean;
  lastedMs: number;
  fatal?: SatelliteError;
  handover?: boolean;
}

interface Session {
  ended: Promise<SessionEnd>;
  /** Bye (when welcomed) and a clean close; cut short after CLOSE_TIMEOUT_MS. */
  close(): Promise<void>;
}

function textOf(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

export function createConnection(options: ConnectionOptions): Connection {
  const { clock, logger } = options;
  const backoff = createBackoff({ ...RECONNECT_BACKOFF, ...options.backoff }, options.random);
  const healthySessionMs = options.healthySessionMs ?? HEALTHY_SESSION_MS;
  const startedAt = clock.now();
  const stopping = new AbortController();
  let current: Session | undefined;
  let ended: Promise<ConnectionEnd> | undefined;

  const openSession = (): Session => {
    const ws = new WebSocket(options.url, {
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    let openedAt: number | undefined;
    let welcomedAt: number | undefined;
    let verdict: Verdict | undefined;
    let lastError: Error | undefined;
    let silentHeartbeats = 0;
    let welcomeTimer: TimerHandle | undefined;
    let heartbeatTimer: TimerHandle | undefined;
    let closeTimer: TimerHandle | undefined;
    let unsubscribe: (() => void) | undefined;
    // A set sent in parts (`more`), put together until its last part: applying a part alone would drop the rest.
    let parts: Assignment[] | undefined;

    /** Takes one frame's assignments; the set goes to the scheduler once whole. */
    const assignmentsArrived = (assignments: Assignment[], more: boolean | undefined): Assignment[] | undefined => {
      parts = parts ? [...parts, ...assignments] : assignments;
      if (more) return undefined;
      const whole = parts;
      parts = undefined;
      return whole;
    };

    /** Whether the frame went out (queued on an open socket). */
    const send = (frame: SatelliteFrame): boolean => {
      if (ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    };
    // A result that went out may be stored even if its ack never comes: the buffer marks it as
    // a resend when the next session sends it again.
    const sendResult = (result: ResultFrame) => {
      if (send(result)) options.buffer.sent(result.resultId);
    };

    const closeWith = (next: Verdict | undefined) => {
      verdict ??= next;
      if (ws.readyState === WebSocket.CLOSED) return;
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, "satellite closing");
      else ws.terminate();
      closeTimer ??= clock.setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
    };

    const heartbeat = (intervalMs: number) => {
      heartbeatTimer = clock.setTimeout(() => {
        if (silentHeartbeats >= SILENT_HEARTBEATS_LIMIT) {
          verdict ??= { message: `nothing came back from the core for ${SILENT_HEARTBEATS_LIMIT} heartbeats` };
          ws.terminate();
          return;
        }
        send({ type: "heartbeat", uptimeSeconds: Math.floor((clock.now() - startedAt) / 1000), inFlight: options.inFlight() });
        silentHeartbeats += 1;
        ws.ping();
        heartbeat(intervalMs);
      }, intervalMs);
    };

    const onWelcome = (frame: Extract<CoreFrame, { type: "welcome" }>) => {
      clock.clearTimeout(welcomeTimer);
      const resync = welcomedAt !== undefined;
      welcomedAt ??= clock.now();
      // A welcome starts a set afresh, whatever part of an earlier one came before it.
      parts = undefined;
      const whole = assignmentsArrived(frame.assignments, frame.more);
      if (whole) options.onAssignments(whole);
      if (resync) return;
      const pending = options.buffer.pending();
      logger.info(
        { sessionId: frame.sessionId, assignments: frame.assignments.length, resending: pending.length, heartbeatIntervalMs: frame.heartbeatIntervalMs },
        "connected to the core",
      );
      for (const result of pending) sendResult(result);
      unsubscribe = options.buffer.subscribe(sendResult);
      heartbeat(frame.heartbeatIntervalMs);
    };

    const handlers: { [K in CoreFrame["type"]]: (frame: Extract<CoreFrame, { type: K }>) => void } = {
      welcome: onWelcome,
      rejected: (frame) => closeWith(REJECTIONS[frame.reason]),
      assignments: (frame) => {
        if (welcomedAt === undefined) return logger.warn("ignored assignments that came before the welcome");
        const whole = assignmentsArrived(frame.assignments, frame.more);
        if (whole) options.onAssignments(whole);
      },
      ack: (frame) => {
        const acknowledged = options.buffer.ack(frame.resultIds);
        logger.debug({ acknowledged, unacknowledged: options.buffer.size }, "results acknowledged");
      },
      run: (frame) => {
        if (welcomedAt === undefined) return logger.warn("ignored a run that came before the welcome");
        logger.info({ checkId: frame.check.checkId, requestId: frame.requestId }, "running a check on demand");
        void options.onRun(frame.check).then(
          (result) => result && send({ type: "runResult", requestId: frame.requestId, result }),
          (error: unknown) => logger.error({ err: error, requestId: frame.requestId }, "a run on demand failed"),
        );
      },
      shutdown: (frame) => closeWith(SHUTDOWNS[frame.reason]),
      error: (frame) => logger.warn({ code: frame.code, detail: frame.message }, "the core reported an error in a frame this satellite sent"),
    };

    ws.on("open", () => {
      openedAt = clock.now();
      send({ type: "hello", satelliteId: options.satelliteId, token: options.token.reveal(), version: options.version, capabilities: options.capabilities });
      welcomeTimer = clock.setTimeout(() => closeWith({ message: `the core sent no welcome within ${WELCOME_TIMEOUT_MS} ms` }), WELCOME_TIMEOUT_MS);
    });
    ws.on("message", (data, isBinary) => {
      silentHeartbeats = 0;
      if (isBinary) return logger.warn("ignored a binary frame from the core");
      const parsed = parseFrame(coreFrameSchema, textOf(data));
      if (!parsed.ok) return logger.warn({ code: parsed.code, problem: parsed.message }, "ignored an invalid frame from the core");
      try {
        (handlers[parsed.frame.type] as (frame: CoreFrame) => void)(parsed.frame);
      } catch (error) {
        // A bug of ours, not the core's: keep the session.
        logger.error({ err: error, frameType: parsed.frame.type }, "handling a frame from the core failed");
      }
    });
    ws.on("pong", () => {
      silentHeartbeats = 0;
    });
    ws.on("error", (error) => {
      lastError = error;
      verdict ??= tlsVerdict(error);
    });

    const sessionEnded = new Promise<SessionEnd>((resolve) => {
      ws.on("close", (code, reason) => {
        for (const timer of [welcomeTimer, heartbeatTimer, closeTimer]) clock.clearTimeout(timer);
        unsubscribe?.();
        const now = clock.now();
        const end: SessionEnd = {
          welcomed: welcomedAt !== undefined,
          lastedMs: welcomedAt === undefined ? 0 : now - welcomedAt,
          fatal: verdict?.fatal,
          handover: verdict?.handover,
        };
        if (!end.fatal && !stopping.signal.aborted) {
          const why = verdict?.message ?? lastError?.message ?? (reason.length > 0 ? reason.toString() : `close code ${code}`);
          if (openedAt === undefined) logger.warn({ url: options.url, error: why }, `could not connect to the core: ${why}`);
          else logger.warn({ code, sessionMs: end.lastedMs, welcomed: end.welcomed }, `disconnected from the core: ${why}`);
        }
        resolve(end);
      });
    });

    return {
      ended: sessionEnded,
      async close() {
        if (welcomedAt !== undefined) send({ type: "bye", reason: "shutdown" });
        closeWith(undefined);
        await sessionEnded;
      },
    };
  };

  const loop = async (): Promise<ConnectionEnd> => {
    while (!stopping.signal.aborted) {
      current = openSession();
      const end = await current.ended;
      current = undefined;
      if (end.fatal) return { kind: "fatal", error: end.fatal };
      if (stopping.signal.aborted) break;
      if (end.handover || (end.welcomed && end.lastedMs >= healthySessionMs)) backoff.reset();
      const delayMs = backoff.next();
      logger.info({ delayMs, attempt: backoff.attempt }, `reconnecting in ${delayMs} ms`);
      await sleep(clock, delayMs, stopping.signal);
    }
    return { kind: "stopped" };
  };

  return {
    start: () => (ended ??= loop()),
    async stop() {
      stopping.abort();
      await current?.close();
      await ended;
    },
  };
}
