// The satellite WebSocket protocol (`/ws/satellite`): JSON text frames, each an object
// with a `type`. Both sides validate every frame with these schemas at the edge.
import { z } from "zod";
import { checkResultDetailSchema, checkRunStatusSchema } from "../check/result.ts";
import { uuidSchema } from "../uuid.ts";

/** Frames larger than this close the socket (the core's and the agent's `maxPayload`). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Before its hello is verified a connection may send only frames up to this size (a hello
 * is a few hundred bytes): nobody unauthenticated gets a large frame parsed.
 */
export const MAX_HELLO_FRAME_BYTES = 8 * 1024;

/** Ids, names and other short strings of the protocol. */
export const MAX_ID_LENGTH = 200;
/** Free text: messages and reasons. */
export const MAX_TEXT_LENGTH = 1000;
/** A result's `detail`, as JSON: enough for a probe's findings, never a whole response body. */
export const MAX_DETAIL_BYTES = 16 * 1024;
/** Checks one satellite may be assigned (and result ids one ack may carry). */
export const MAX_ASSIGNMENTS = 10_000;

// Every string a peer sends is bounded: nothing it sends can grow what the other side keeps or echoes.
const id = () => z.string().min(1).max(MAX_ID_LENGTH);
const text = () => z.string().max(MAX_TEXT_LENGTH);
const encoder = new TextEncoder();
const utf8Bytes = (value: string) => encoder.encode(value).length;

/** A connection must send `hello` within this long after opening, or it is closed. */
export const HELLO_TIMEOUT_MS = 10_000;

/** Satellite tokens: `vsat_` and 32 random bytes in base64url (43 characters). */
export const SATELLITE_TOKEN_PATTERN = /^vsat_[A-Za-z0-9_-]{43}$/;

/**
 * One check a satellite must run, as the core assigns it. `config` is the check's probe spec
 * (`probeSpecSchema`): the agent validates it when it runs, so a newer core's option that an
 * older agent does not know is reported as that check's `error`, not as a broken frame.
 */
export const assignmentSchema = z.object({
  checkId: id(),
  name: z.string().max(MAX_ID_LENGTH),
  type: id(),
  intervalSeconds: z.number().positive(),
  timeoutMs: z.number().int().positive(),
  config: z.record(z.string(), z.unknown()),
  /**
   * The check's revision (bumped by every write). Part of what the agent compares, so a check
   * saved again is restarted even where its probe spec reads the same; optional for cores
   * that predate it.
   */
  revision: z.number().int().nonnegative().optional(),
});

// satellite → core

export const helloFrameSchema = z.object({
  type: z.literal("hello"),
  satelliteId: uuidSchema(),
  token: z.string().min(1).max(MAX_ID_LENGTH),
  version: z.string().min(1).max(100),
  capabilities: z.array(z.string().max(100)).max(100),
});

export const heartbeatFrameSchema = z.object({
  type: z.literal("heartbeat"),
  uptimeSeconds: z.number().nonnegative(),
  inFlight: z.number().int().nonnegative(),
});

export const resultFrameSchema = z.object({
  type: z.literal("result"),
  /** Unique per run: a result re-sent after a reconnect is recognised and acknowledged again. */
  resultId: uuidSchema(),
  checkId: id(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  status: checkRunStatusSchema,
  detail: checkResultDetailSchema.refine(
    (detail) => utf8Bytes(JSON.stringify(detail)) <= MAX_DETAIL_BYTES,
    `must be at most ${MAX_DETAIL_BYTES / 1024} KiB as JSON`,
  ),
  /**
   * Set when this result was sent on an earlier session and never acknowledged: the core may
   * have stored it already, so its batch skips stored results at once (RESEND_MARK_CAPABILITY).
   */
  resend: z.boolean().optional(),
});

/** A run on demand's outcome, as the probe reported it (the core gives it its result id). */
export const runOutcomeSchema = resultFrameSchema.pick({ startedAt: true, durationMs: true, status: true, detail: true });

/**
 * The answer to a `run` frame: the outcome of that one run. Sent only by agents that announce
 * RUN_ON_DEMAND_CAPABILITY; an answer the core no longer waits for (past its deadline) is ignored.
 */
export const runResultFrameSchema = z.object({
  type: z.literal("runResult"),
  requestId: uuidSchema(),
  result: runOutcomeSchema,
});

export const byeFrameSchema = z.object({
  type: z.literal("bye"),
  reason: z.string().max(500),
});

export const satelliteFrameSchema = z.discriminatedUnion("type", [
  helloFrameSchema,
  heartbeatFrameSchema,
  resultFrameSchema,
  runResultFrameSchema,
  byeFrameSchema,
]);

// core → satellite

export const welcomeFrameSchema = z.object({
  type: z.literal("welcome"),
  sessionId: uuidSchema(),
  heartbeatIntervalMs: z.number().int().positive(),
  /** The full desired set (or its first part, with `more`): the satellite drops whatever is not in it. */
  assignments: z.array(assignmentSchema).max(MAX_ASSIGNMENTS),
  /** The set goes on in `assignments` frames; it is whole at the first of them without `more`. */
  more: z.boolean().optional(),
});

export const rejectedReasonSchema = z.enum(["invalid_credentials", "rate_limited", "hello_timeout", "hello_expected"]);

export const rejectedFrameSchema = z.object({
  type: z.literal("rejected"),
  reason: rejectedReasonSchema,
  message: text(),
});

/**
 * The full desired set, or one part of it: a set larger than a frame may be (MAX_FRAME_BYTES)
 * is sent in parts, each but the last with `more: true`, to agents that announce
 * ASSIGNMENT_PARTS_CAPABILITY. The agent applies the set once its last part arrived.
 */
export const assignmentsFrameSchema = z.object({
  type: z.literal("assignments"),
  assignments: z.array(assignmentSchema).max(MAX_ASSIGNMENTS),
  more: z.boolean().optional(),
});

export const ackFrameSchema = z.object({
  type: z.literal("ack"),
  resultIds: z.array(z.string().max(MAX_ID_LENGTH)).max(MAX_ASSIGNMENTS),
});

/**
 * The capability an agent announces in its hello when it understands `run` frames. The core
 * sends `run` only to such agents: an older one would drop the frame as invalid and never
 * answer, so the API tells the operator to upgrade it instead.
 */
export const RUN_ON_DEMAND_CAPABILITY = "run-on-demand";

/**
 * The capability an agent announces when it puts together an assignment set sent in parts
 * (`more`). An older agent would take each part for the whole set; it gets one frame, which a
 * set over MAX_FRAME_BYTES does not fit.
 */
export const ASSIGNMENT_PARTS_CAPABILITY = "assignment-parts";

/**
 * The capability an agent announces when it marks the results it sends again (`resend`). The
 * core stores unmarked results without ON CONFLICT's dearer insert; for an older agent it takes
 * every result that started before the session's welcome for a possible resend instead.
 */
export const RESEND_MARK_CAPABILITY = "resend-mark";

/**
 * Run one check once, now, outside the schedule ("run now" and "test before save" from this
 * satellite), and answer with `runResult {requestId}`. `check` is an assignment like those the
 * satellite runs on schedule (for an unsaved definition its checkId is the request id). A run
 * of an assigned check never overlaps a scheduled run of it: the agent runs it in the same lane.
 */
export const runFrameSchema = z.object({
  type: z.literal("run"),
  requestId: uuidSchema(),
  check: assignmentSchema,
});

export const shutdownReasonSchema = z.enum(["deleted", "token_rotated", "server_shutdown", "replaced"]);

export const shutdownFrameSchema = z.object({
  type: z.literal("shutdown"),
  reason: shutdownReasonSchema,
});

export const errorFrameSchema = z.object({
  type: z.literal("error"),
  code: z.string().max(MAX_ID_LENGTH),
  message: text(),
});

export const coreFrameSchema = z.discriminatedUnion("type", [
  welcomeFrameSchema,
  rejectedFrameSchema,
  assignmentsFrameSchema,
  ackFrameSchema,
  runFrameSchema,
  shutdownFrameSchema,
  errorFrameSchema,
]);

export type Assignment = z.infer<typeof assignmentSchema>;
export type HelloFrame = z.infer<typeof helloFrameSchema>;
export type HeartbeatFrame = z.infer<typeof heartbeatFrameSchema>;
export type ResultFrame = z.infer<typeof resultFrameSchema>;
export type ByeFrame = z.infer<typeof byeFrameSchema>;
export type RunOutcome = z.infer<typeof runOutcomeSchema>;
export type RunResultFrame = z.infer<typeof runResultFrameSchema>;
export type RunFrame = z.infer<typeof runFrameSchema>;
export type SatelliteFrame = z.infer<typeof satelliteFrameSchema>;
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type RejectedReason = z.infer<typeof rejectedReasonSchema>;
export type RejectedFrame = z.infer<typeof rejectedFrameSchema>;
export type AssignmentsFrame = z.infer<typeof assignmentsFrameSchema>;
export type AckFrame = z.infer<typeof ackFrameSchema>;
export type ShutdownReason = z.infer<typeof shutdownReasonSchema>;
export type ShutdownFrame = z.infer<typeof shutdownFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type CoreFrame = z.infer<typeof coreFrameSchema>;
