// One satellite socket from its first byte to its close: hello within a deadline, the
// credentials check, the connected edge and welcome, then heartbeats, results and bye.
// Every input is parsed here; nothing a satellite sends can throw out of this class.
import { randomUUID } from "node:crypto";
import {
  ASSIGNMENT_PARTS_CAPABILITY,
  type Assignment,
  assignmentParts,
  canonicalUuid,
  type CoreFrame,
  type HelloFrame,
  MAX_HELLO_FRAME_BYTES,
  MAX_TEXT_LENGTH,
  type RejectedReason,
  type ResultFrame,
  type RunOutcome,
  type RunResultFrame,
  type SatelliteFrame,
  type ShutdownReason,
  parseFrame,
  RESEND_MARK_CAPABILITY,
  satelliteFrameSchema,
} from "@vantage/protocol";
import type WebSocket from "ws";
import { isVantageError, VantageError } from "../../errors.ts";
import { type Attempt, FixedWindowCounter, hashToken } from "../../auth/index.ts";
import type { ConnectedMutation, TokenRefused } from "../connection/service.ts";
import type { AuthenticatedSatellite, GatewayContext, SatelliteSession } from "./gateway-context.ts";
import type { BadFrameCode } from "./gateway-metrics.ts";

/** WebSocket close codes the gateway uses (RFC 6455 §7.4.1). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  /** The core could not complete the connect (database unavailable): reconnect later. */
  tryAgainLater: 1013,
} as const;

/** Frames that arrive between hello and welcome (the socket is paused meanwhile) are kept up to this many. */
const MAX_EARLY_FRAMES = 32;
/**
 * Results of one socket being stored at once. They flow into the sink concurrently, so a
 * satellite replaying its buffer after a reconnect fills the ingest's batches (one statement
 * each) instead of waiting a round trip per result. At this many the socket pauses until half
 * of them were stored; the frames of the socket read in progress still come in, and wait in the
 * connection (at most one read's worth) until there is room, so no more than this many are ever
 * in the sink at once.
 */
export const MAX_RESULTS_IN_FLIGHT = 256;
/** An ack is sent once this many results wait for it, without waiting for the ack delay. */
const MAX_ACK_BATCH = 100;
/** What of a peer's input an error message may quote: never all of it. */
const MAX_QUOTED_LENGTH = 64;

type State = "awaiting_hello" | "authenticating" | "open" | "closed";

type FrameHandlers = { [Type in SatelliteFrame["type"]]: (connection: SatelliteConnection, frame: Extract<SatelliteFrame, { type: Type }>) => void };

/** What an authenticated satellite may send, by frame type. */
const HANDLERS: FrameHandlers = {
  hello: (connection) => connection.badFrame("unexpected_hello", "This connection is already authenticated; hello is only valid as the first frame."),
  heartbeat: (connection) => connection.heartbeat(),
  result: (connection, frame) => connection.result(frame),
  runResult: (connection, frame) => connection.runResult(frame),
  bye: (connection, frame) => connection.bye(frame.reason),
};

export class SatelliteConnection {
  /** The satellite the hello claimed to be: set from hello on, authenticated or not yet. */
  satelliteId: string | undefined;
  sessionId: string | undefined;
  /** What the assigning modules see of this socket, from its welcome on. */
  session: SatelliteSession | undefined;
  private state: State = "awaiting_hello";
  /** Whether this session's connected edge committed: its close must then be recorded. */
  private connectedEdge = false;
  /**
   * Closed by this core shutting down: a handover, not the satellite going away. Its close
   * records nothing; the satellite stays `connected` with its last heartbeat, reconnects to
   * any core, and only one that does not return within its threshold is `heartbeat_lost`.
   */
  private handedOver = false;
  /** The connect, then the disconnect: the close's edge is recorded after the connect's. */
  private lifecycle: Promise<void> = Promise.resolve();
  private helloTimer: NodeJS.Timeout | undefined;
  private terminateTimer: NodeJS.Timeout | undefined;
  private readonly earlyFrames: Array<{ data: WebSocket.RawData; isBinary: boolean }> = [];
  private readonly badFrames: FixedWindowCounter;
  /** The set last given (welcome or `assignments`), and its check ids, which results are authorized against. */
  private assignments: readonly Assignment[] = [];
  private assigned = new Set<string>();
  /** The agent puts together a set sent in parts (it announced ASSIGNMENT_PARTS_CAPABILITY). */
  private partsWanted = false;
  /** The agent marks the results it sends again (it announced RESEND_MARK_CAPABILITY). */
  private marksResends = false;
  /** Every check assigned during this session: late results of those are expected, not bad. */
  private everAssigned = new Set<string>();
  /** When welcome was sent (epoch ms): results that started before it were buffered across a reconnect. */
  private welcomedAt = Number.POSITIVE_INFINITY;
  /** Set once the peer stopped reading and its output hit the bound: nothing more is sent. */
  private overflowed = false;
  private resultsInFlight = 0;
  /** Results read after the in-flight bound was reached (the rest of the read that reached it), in arrival order. */
  private heldResults: ResultFrame[] = [];
  private pendingAcks: string[] = [];
  /** Runs on demand sent and not answered yet, by request id. */
  private readonly pendingRuns = new Map<string, { resolve: (outcome: RunOutcome) => void; reject: (error: unknown) => void }>();
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** The client's address (behind trusted proxies, the one they forwarded). */
    readonly address: string,
    private readonly context: GatewayContext,
  ) {
    this.badFrames = new FixedWindowCounter(context.badFrameLimit.windowMs);
    this.helloTimer = setTimeout(() => this.reject("hello_timeout", `No hello within ${context.helloTimeoutMs} ms of connecting.`), context.helloTimeoutMs);
    ws.on("message", (data, isBinary) => this.receive(data, isBinary));
    ws.on("close", () => this.closed());
    // Oversized frames (maxPayload), protocol errors, resets: ws closes the socket after this.
    ws.on("error", (error) => context.logger.debug({ err: error, satelliteId: this.satelliteId, address }, "satellite socket error"));
  }

  isOpen(): boolean {
    return this.state === "open";
  }

  /** Closed or closing. A method, not a field test: it changes across the awaits of a connect. */
  private isClosed(): boolean {
    return this.state === "closed" || this.terminateTimer !== undefined;
  }

  send(frame: CoreFrame): void {
    if (this.ws.readyState !== this.ws.OPEN || this.overflowed) return;
    // A peer that does not read makes everything sent to it pile up here: cut it off instead.
    if (this.ws.bufferedAmount > this.context.maxSendBufferBytes) return this.cutOff();
    this.ws.send(JSON.stringify(frame));
  }

  private cutOff(): void {
    this.overflowed = true;
    this.context.metrics.slowConsumers.inc();
    this.context.logger.warn(
      { satelliteId: this.satelliteId, address: this.address, bufferedBytes: this.ws.bufferedAmount },
      "cut off a satellite socket that does not read what the core sends",
    );
    this.close(CLOSE_CODES.policyViolation, "not reading: send buffer full", { read: false });
  }

  /** This core is shutting down: heartbeats from now on are not recorded; `shutdown {server_shutdown}` follows. */
  beginHandover(): void {
    this.handedOver = true;
  }

  /** Sends `shutdown {reason}` and closes now; a peer that does not answer the close is cut off. */
  shutdown(reason: ShutdownReason): void {
    if (this.state === "closed") return;
    if (reason === "server_shutdown") this.handedOver = true;
    this.send({ type: "shutdown", reason });
    this.close(reason === "server_shutdown" ? CLOSE_CODES.goingAway : CLOSE_CODES.normal, reason);
  }

  /** Replaces the assignment set (results are authorized against it) and sends it, unless it goes in the welcome. */
  private setAssignments(assignments: readonly Assignment[], frame: "assignments" | null): void {
    this.assignments = assignments;
    this.assigned = new Set(assignments.map((assignment) => assignment.checkId));
    for (const checkId of this.assigned) this.everAssigned.add(checkId);
    if (frame) for (const part of this.partsOf(assignments)) this.send({ type: "assignments", ...part });
  }

  /**
   * The set as frames' contents: in parts that each fit a frame, for an agent that puts them
   * together; whole for an older one (a set over the frame bound then closes its socket, as before).
   */
  private partsOf(assignments: readonly Assignment[]): Array<{ assignments: Assignment[]; more?: true }> {
    // Sent as given, never changed afterwards: the frame schema's array is only typed mutable.
    if (!this.partsWanted) return [{ assignments: assignments as Assignment[] }];
    const parts = assignmentParts(assignments);
    return parts.map((part, index) => (index < parts.length - 1 ? { assignments: part, more: true } : { assignments: part }));
  }

  private openSession(satellite: AuthenticatedSatellite, hello: HelloFrame): SatelliteSession {
    const current = () => this.assignments;
    return {
      satelliteId: satellite.id,
      sessionId: this.sessionId!,
      satellite,
      capabilities: hello.capabilities,
      version: hello.version,
      run: (requestId, check, signal) => this.run(requestId, check, signal),
      get assignments() {
        return current();
      },
      setAssignments: (assignments) => {
        if (!this.isOpen() || this.isClosed()) return false;
        this.setAssignments(assignments, "assignments");
        return true;
      },
    };
  }

  private run(requestId: string, check: Assignment, signal: AbortSignal | undefined): Promise<RunOutcome> {
    if (!this.isOpen() || this.isClosed()) return Promise.reject(leftDuringRun(this.satelliteId!));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<RunOutcome>((resolve, reject) => {
      const onAbort = () => settle(() => reject(signal!.reason));
      const settle = (done: () => void) => {
        this.pendingRuns.delete(requestId);
        signal?.removeEventListener("abort", onAbort);
        done();
      };
      this.pendingRuns.set(requestId, { resolve: (outcome) => settle(() => resolve(outcome)), reject: (error) => settle(() => reject(error)) });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.send({ type: "run", requestId, check });
    });
  }

  /** The answer to a run on demand; one nobody waits for any more (past its deadline) is ignored. */
  runResult(frame: RunResultFrame): void {
    const pending = this.pendingRuns.get(frame.requestId);
    if (!pending)
      return this.context.logger.info(
        { satelliteId: this.satelliteId, requestId: frame.requestId },
        "ignored the answer to a run on demand nobody waits for (past its deadline)",
      );
    pending.resolve(frame.result);
  }

  badFrame(code: BadFrameCode, message: string): void {
    this.context.metrics.badFrames.inc({ code });
    if (this.badFrames.hit(this.context.now()) > this.context.badFrameLimit.max) {
      this.send({ type: "error", code: "too_many_bad_frames", message: `More than ${this.context.badFrameLimit.max} bad frames; closing.` });
      this.close(CLOSE_CODES.policyViolation, "too many bad frames");
      return;
    }
    this.send({ type: "error", code, message: bounded(message) });
  }

  heartbeat(): void {
    this.context.metrics.heartbeats.inc();
    this.recordHeartbeat();
  }

  /** Into the buffer, unless handed over: its last flush already ran. */
  private recordHeartbeat(): void {
    if (!this.handedOver) this.context.heartbeats.record(this.satelliteId!, this.sessionId!);
  }

  bye(reason: string): void {
    this.context.logger.info({ satelliteId: this.satelliteId, reason }, "satellite said bye");
    this.close(CLOSE_CODES.normal, "bye");
  }

  result(frame: ResultFrame): void {
    const { metrics } = this.context;
    metrics.resultsReceived.inc();
    if (!this.assigned.has(frame.checkId)) return this.unassignedResult(frame);
    // Stored concurrently (each acknowledged once its batch committed), bounded per socket: a
    // satellite replaying a large buffer is slowed down (the socket pauses) instead of queueing without bound.
    if (this.resultsInFlight >= MAX_RESULTS_IN_FLIGHT) this.heldResults.push(frame);
    else this.startStoring(frame);
  }

  private startStoring(frame: ResultFrame): void {
    if (++this.resultsInFlight === MAX_RESULTS_IN_FLIGHT) this.ws.pause();
    void this.store(frame);
  }

  /** Half the bound is free again: the held results go first, and reading resumes once none is left. */
  private admitHeldResults(): void {
    let admitted = 0;
    while (admitted < this.heldResults.length && this.resultsInFlight < MAX_RESULTS_IN_FLIGHT) this.startStoring(this.heldResults[admitted++]!);
    this.heldResults = this.heldResults.slice(admitted);
    if (this.heldResults.length === 0 && this.resultsInFlight < MAX_RESULTS_IN_FLIGHT && this.state === "open") this.ws.resume();
  }

  /**
   * Results of a check unassigned while they were in flight, or buffered by the satellite
   * across a reconnect, are expected after every assignment change: acknowledged (so the
   * satellite stops re-sending them) and dropped. Any other is a bad frame, so a peer
   * streaming results for checks it never had is closed by the bad-frame limit. (startedAt is
   * the satellite's clock: one running behind only gets more of them acknowledged, which costs
   * the core an ack of a uuid each, never an echo of what was sent.)
   */
  private unassignedResult(frame: ResultFrame): void {
    this.context.metrics.resultsDropped.inc({ reason: "unassigned" });
    if (this.everAssigned.has(frame.checkId) || Date.parse(frame.startedAt) < this.welcomedAt) return this.ack(frame.resultId);
    this.badFrame("unassigned_check", `Check ${quote(frame.checkId)} is not assigned to this satellite; result ${frame.resultId} was dropped.`);
  }

  private async store(frame: ResultFrame): Promise<void> {
    const { metrics, results, resultSink } = this.context;
    const satelliteId = this.satelliteId!;
    try {
      const outcome = await results.run(`${satelliteId}:${frame.resultId}`, () => resultSink(satelliteId, this.withResendMark(frame)));
      if (outcome === "duplicate") metrics.resultsDuplicate.inc();
      this.ack(frame.resultId);
    } catch (error) {
      metrics.resultsDropped.inc({ reason: "sink_failed" });
      this.context.logger.warn({ err: error, satelliteId, resultId: frame.resultId }, "could not store a satellite result");
      // Not acknowledged: the satellite keeps it and sends it again.
      this.send({ type: "error", code: "result_not_stored", message: `Result ${frame.resultId} could not be stored; send it again later.` });
    } finally {
      if (--this.resultsInFlight === MAX_RESULTS_IN_FLIGHT / 2) this.admitHeldResults();
    }
  }

  /**
   * The frame, marked as a possible resend when the agent says so or, for an agent that does not
   * mark its resends, when it started before this session's welcome (run before this session,
   * it may have been sent on an earlier one). A wrong guess only costs: a resend unmarked is
   * still stored once (after a failed cheaper insert), a new result marked is stored as usual.
   */
  private withResendMark(frame: ResultFrame): ResultFrame {
    if (this.marksResends || frame.resend === true || !(Date.parse(frame.startedAt) < this.welcomedAt)) return frame;
    return { ...frame, resend: true };
  }

  private ack(resultId: string): void {
    this.pendingAcks.push(resultId);
    if (this.pendingAcks.length >= MAX_ACK_BATCH) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), this.context.ackDelayMs);
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.pendingAcks.length === 0) return;
    this.send({ type: "ack", resultIds: this.pendingAcks });
    this.pendingAcks = [];
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.terminateTimer) return; // closing: nothing more is read
    // Until welcome, frames are small (a hello is a few hundred bytes): a large one is never parsed.
    if (this.state !== "open" && byteLength(data) > MAX_HELLO_FRAME_BYTES) return this.tooLargeBeforeWelcome();
    try {
      if (this.state === "open") this.dispatch(data, isBinary);
      else if (this.state === "awaiting_hello") this.hello(data, isBinary);
      else if (this.state === "authenticating") this.keepEarly(data, isBinary);
    } catch (error) {
      // A bug of ours, not the satellite's: keep serving everyone else.
      this.context.logger.error({ err: error, satelliteId: this.satelliteId }, "satellite frame handler threw");
    }
  }

  private dispatch(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return this.badFrame("binary_frame", "Frames are JSON text; binary frames are not accepted.");
    const parsed = parseFrame(satelliteFrameSchema, rawText(data));
    if (!parsed.ok) return this.badFrame(parsed.code, parsed.message);
    (HANDLERS[parsed.frame.type] as (connection: SatelliteConnection, frame: SatelliteFrame) => void)(this, parsed.frame);
  }

  private tooLargeBeforeWelcome(): void {
    const message = `Frames before welcome may be at most ${MAX_HELLO_FRAME_BYTES} bytes.`;
    if (this.state === "awaiting_hello") {
      clearTimeout(this.helloTimer);
      return this.reject("hello_expected", `The first frame must be a valid hello: ${message}`);
    }
    this.close(CLOSE_CODES.policyViolation, "frame too large before welcome", { read: false });
  }

  private keepEarly(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.earlyFrames.length >= MAX_EARLY_FRAMES) return this.close(CLOSE_CODES.policyViolation, "frames before welcome");
    this.earlyFrames.push({ data, isBinary });
  }

  private hello(data: WebSocket.RawData, isBinary: boolean): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    const parsed = isBinary ? undefined : parseFrame(satelliteFrameSchema, rawText(data));
    if (!parsed?.ok || parsed.frame.type !== "hello") {
      const why = parsed && !parsed.ok ? ` (${parsed.message})` : "";
      return this.reject("hello_expected", `The first frame must be a valid hello${why}.`);
    }
    const hello = parsed.frame;
    // Counted from now, per address and per satellite id: concurrent hellos cannot all slip
    // under the limit. Over it, the check still runs where it is cheap (SHA-256), so a valid
    // token is never refused; only a slow scrypt check of a not yet upgraded hash is.
    const attempt = this.context.authFailures.begin([this.address, `satellite:${hello.satelliteId}`]);
    this.satelliteId = hello.satelliteId;
    this.state = "authenticating";
    this.ws.pause();
    this.lifecycle = this.authenticate(hello, attempt)
      .catch((error: unknown) => {
        this.context.logger.warn({ err: error, satelliteId: hello.satelliteId }, "could not complete a satellite connect; asking it to retry");
        this.close(CLOSE_CODES.tryAgainLater, "try again later");
      })
      .finally(() => attempt?.succeeded()); // a check that threw is no failed login
  }

  private async authenticate(hello: HelloFrame, attempt: Attempt | undefined): Promise<void> {
    // Within the failure limit, a well-formed id's token is checked by its connected edge (one
    // transaction for both). Over the limit a hello is checked first and alone: hellos with
    // wrong tokens must not queue among a satellite's own connects (serializeConnects).
    const id = this.context.checkTokensInConnect && attempt !== undefined ? canonicalUuid(hello.satelliteId) : undefined;
    const checked = id === undefined ? "unchecked" : await this.connectCheckingToken(id, hello, attempt!);
    if (checked === "unchecked") await this.checkThenConnect(hello, attempt);
    if (!this.isOpen()) return;
    this.ws.resume();
    for (const { data, isBinary } of this.earlyFrames.splice(0)) this.receive(data, isBinary);
  }

  /**
   * The connected edge, recorded only if the hello's token is the satellite's: "unchecked" when
   * only the registry can tell (its stored hash is a slow one), and nothing was recorded.
   */
  private async connectCheckingToken(id: string, hello: HelloFrame, attempt: Attempt): Promise<"done" | "unchecked"> {
    this.satelliteId = id;
    this.sessionId = randomUUID();
    let checked: "done" | "unchecked" = "done";
    await this.context.serializeConnects(id, async () => {
      if (this.isClosed()) return;
      const outcome = await this.recordConnected(id, hello, hashToken(hello.token));
      if (outcome !== "not_found" && "tokenRefused" in outcome && outcome.tokenRefused === "slow_hash") {
        checked = "unchecked";
        return;
      }
      if (outcome === "not_found" || "tokenRefused" in outcome) {
        attempt.failed();
        return this.reject("invalid_credentials", "Unknown satellite id or wrong token.");
      }
      attempt.succeeded();
      this.context.authenticated(this);
      await this.welcome(outcome.registration, hello, outcome.heartbeatWritten);
    });
    return checked;
  }

  /** The registry checks the hello's credentials, then the connected edge is recorded. */
  private async checkThenConnect(hello: HelloFrame, attempt: Attempt | undefined): Promise<void> {
    const { context } = this;
    const satellite = await context.authenticate(hello.satelliteId, hello.token, { slow: attempt !== undefined });
    if (satellite === null || satellite === "refused") {
      attempt?.failed();
      if (attempt) return this.reject("invalid_credentials", "Unknown satellite id or wrong token.");
      return this.reject("rate_limited", "Too many failed logins from this address or for this satellite; wait a minute before trying again.");
    }
    attempt?.succeeded();
    if (this.isClosed()) return;
    context.authenticated(this);
    this.satelliteId = satellite.id;
    this.sessionId = randomUUID();
    // Per satellite, in order: the session registered here is the one that owns the row.
    await context.serializeConnects(satellite.id, async () => {
      const outcome = await this.recordConnected(satellite.id, hello);
      // Deleted between the credentials check and the connect.
      if (outcome === "not_found") return this.reject("invalid_credentials", "Unknown satellite id or wrong token.");
      await this.welcome(satellite, hello, "heartbeatWritten" in outcome && outcome.heartbeatWritten);
    });
  }

  /** This session's connected edge, with `tokenHash` when the token is checked by it; "not_found" for a satellite that does not exist (deleted meanwhile). */
  private async recordConnected(satelliteId: string, hello: HelloFrame, tokenHash?: string): Promise<ConnectedMutation | TokenRefused | "not_found"> {
    try {
      return await this.context.edges.connected({
        satelliteId,
        sessionId: this.sessionId!,
        version: hello.version,
        capabilities: hello.capabilities,
        instanceId: this.context.instanceId,
        ...(tokenHash === undefined ? {} : { tokenHash }),
      });
    } catch (error) {
      if (!isVantageError(error, "not_found")) throw error;
      return "not_found";
    }
  }

  /**
   * The connected edge committed: the assignments, then welcome, and the session is open.
   * `heartbeatWritten`: the edge wrote the heartbeat just now, so the hello's is not buffered.
   */
  private async welcome(satellite: AuthenticatedSatellite, hello: HelloFrame, heartbeatWritten: boolean): Promise<void> {
    const { context } = this;
    this.connectedEdge = true;
    if (this.isClosed()) return;
    const assignments = await context.assignmentsFor(satellite, hello.capabilities);
    if (this.isClosed()) return;
    this.partsWanted = hello.capabilities.includes(ASSIGNMENT_PARTS_CAPABILITY);
    this.marksResends = hello.capabilities.includes(RESEND_MARK_CAPABILITY);
    this.setAssignments(assignments, null);
    this.session = this.openSession(satellite, hello);
    context.register(this);
    this.welcomedAt = context.now();
    // The hello is a sign of life: a satellite taken over from a core that shut down kept
    // its last heartbeat (no connected edge was recorded), and is refreshed with the next flush.
    // Any other connect wrote the heartbeat itself: in a reconnect storm, buffering the hello
    // too would write every satellite's row a second time within the second.
    if (!heartbeatWritten) this.recordHeartbeat();
    // A set too large for one frame: its first part in the welcome, the rest right after it.
    const [first, ...rest] = this.partsOf(assignments);
    this.send({ type: "welcome", sessionId: this.sessionId!, heartbeatIntervalMs: context.heartbeatIntervalMs, ...first! });
    for (const part of rest) this.send({ type: "assignments", ...part });
    this.state = "open";
    // In the same turn as the welcome: whoever assigns checks learns of the session before
    // anything can change what it was welcomed with.
    context.opened(this);
    context.logger.info({ satelliteId: satellite.id, name: satellite.name, sessionId: this.sessionId, version: hello.version }, "satellite connected");
  }

  /** Refuses the connection and stops reading it: whatever else it sends is never read. */
  private reject(reason: RejectedReason, message: string): void {
    this.context.metrics.authFailures.inc({ reason });
    this.send({ type: "rejected", reason, message: bounded(message) });
    this.close(CLOSE_CODES.policyViolation, reason, { read: false });
  }

  /** `read: false` for a peer not worth reading: it is cut off after the grace instead of answering the close. */
  private close(code: number, reason: string, options: { read?: boolean } = {}): void {
    if (this.terminateTimer || this.state === "closed") return;
    this.flushAcks();
    // A paused socket would never read the peer's answering close frame.
    if (options.read ?? true) this.ws.resume();
    else this.ws.pause();
    this.ws.close(code, reason);
    // A peer that never answers the close frame must not hold the socket (or shutdown).
    this.terminateTimer = setTimeout(() => this.ws.terminate(), this.context.closeGraceMs);
  }

  private closed(): void {
    const wasOpen = this.state === "open";
    this.state = "closed";
    for (const pending of [...this.pendingRuns.values()]) pending.reject(leftDuringRun(this.satelliteId!));
    clearTimeout(this.helloTimer);
    clearTimeout(this.terminateTimer);
    clearTimeout(this.ackTimer);
    const { satelliteId, sessionId } = this;
    if (wasOpen)
      this.context.logger.info({ satelliteId, sessionId }, this.handedOver ? "satellite handed over: this core is shutting down" : "satellite disconnected");
    this.lifecycle = this.lifecycle.then(async () => {
      if (!this.connectedEdge || this.handedOver) return;
      try {
        // Recorded only if this session still owns the satellite: a stale close changes nothing.
        await this.context.edges.disconnected({ satelliteId: satelliteId!, sessionId: sessionId! });
      } catch (error) {
        // The monitor reports it as heartbeat_lost once its heartbeat expires.
        this.context.logger.warn({ err: error, satelliteId, sessionId }, "could not record a satellite's disconnect");
      }
    });
    this.context.closed(this, this.lifecycle);
  }
}

function leftDuringRun(satelliteId: string): VantageError {
  return new VantageError(
    "conflict",
    "satellite_offline",
    `Satellite ${satelliteId} disconnected before it answered the run; run it again once it is back, or from another location.`,
  );
}

function byteLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

/** A message as sent in error and rejected frames: within the protocol's bound for text. */
function bounded(message: string): string {
  return message.length <= MAX_TEXT_LENGTH ? message : `${message.slice(0, MAX_TEXT_LENGTH - 1)}…`;
}

/** A peer's string as an error message quotes it: JSON-quoted, cut after MAX_QUOTED_LENGTH characters. */
function quote(value: string): string {
  return JSON.stringify(value.length <= MAX_QUOTED_LENGTH ? value : `${value.slice(0, MAX_QUOTED_LENGTH)}…`);
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
