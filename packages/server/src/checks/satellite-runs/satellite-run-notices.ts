// The notices that carry a run on demand to the core process holding the satellite's socket,
// and its answer back: a request broadcast to every core (only the holder acts on it) and an
// answer broadcast back (only the requester waits for it). Each is one large notice (parts in
// one commit); the check inside a request is sealed under the cluster's key, so credential
// headers never cross PostgreSQL in clear.
import { type Assignment, assignmentSchema, type ErrorCode, runOutcomeSchema, type RunOutcome, uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import { parseNotice } from "../../cluster/index.ts";
import type { SecretBox } from "../../crypto/index.ts";
import { VantageError, type ErrorKind } from "../../errors.ts";

export const SATELLITE_RUN_REQUESTS_CHANNEL = "vantage_satellite_run_requests";
export const SATELLITE_RUN_ANSWERS_CHANNEL = "vantage_satellite_run_answers";

/** What can go wrong with a run on demand on a satellite, and how the API answers each. */
const FAILURE_KINDS = {
  satellite_offline: "conflict",
  satellite_upgrade_required: "conflict",
  satellite_run_timeout: "timeout",
  satellite_run_failed: "transient",
  core_stopping: "transient",
} as const satisfies Partial<Record<ErrorCode, ErrorKind>>;
export type SatelliteRunFailure = keyof typeof FAILURE_KINDS;

export function satelliteRunError(code: SatelliteRunFailure, message: string, cause?: unknown): VantageError {
  return new VantageError(FAILURE_KINDS[code], code, message, { cause });
}

/** A run on demand as the holder carries it out. */
export interface SatelliteRunRequest {
  requestId: string;
  satelliteId: string;
  /** The stored check whose result is stored (its id is the result id's check); null for a test run, which stores nothing. */
  checkId: string | null;
  /** The check's type, which the stored result is counted under. */
  checkType: string;
  /** What the satellite runs, credential headers in clear. */
  check: Assignment;
  /** How long the holder waits for the satellite's answer. */
  deadlineMs: number;
}

const requestNoticeSchema = z.object({
  requestId: uuidSchema(),
  /** The core that waits for the answer. */
  from: z.string().min(1).max(200),
  satelliteId: uuidSchema(),
  checkId: uuidSchema().nullable(),
  checkType: z.string().min(1).max(100),
  /** The assignment as JSON, sealed under the cluster's key and bound to the request id. */
  sealed: z.string().min(1),
  deadlineMs: z.number().int().positive(),
});

const failureCodes = Object.keys(FAILURE_KINDS) as [SatelliteRunFailure, ...SatelliteRunFailure[]];

const answerNoticeSchema = z.object({
  requestId: uuidSchema(),
  /** The core that waits for it. */
  to: z.string().min(1).max(200),
  answer: z.discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), result: runOutcomeSchema }),
    z.object({ ok: z.literal(false), code: z.enum(failureCodes), message: z.string().max(2_000) }),
  ]),
});
export type SatelliteRunAnswer = z.infer<typeof answerNoticeSchema>["answer"];

const sealingContext = (requestId: string) => `satellite-run:${requestId}`;

/** A request as its notice's text, the check sealed. */
export function requestNotice(request: SatelliteRunRequest, from: string, box: SecretBox): string {
  const { check, ...rest } = request;
  return JSON.stringify({ ...rest, from, sealed: box.seal(JSON.stringify(check), sealingContext(request.requestId)) });
}

/** A request notice's text as the request (the check opened), or null when it is not one. */
export function parseRequestNotice(text: string, box: SecretBox): (SatelliteRunRequest & { from: string }) | null {
  const notice = parseNotice(requestNoticeSchema, text);
  if (!notice) return null;
  const { sealed, ...rest } = notice;
  const check = parseNotice(assignmentSchema, box.open(sealed, sealingContext(notice.requestId)));
  return check ? { ...rest, check } : null;
}

export function answerNotice(requestId: string, to: string, answer: SatelliteRunAnswer): string {
  return JSON.stringify({ requestId, to, answer });
}

export function parseAnswerNotice(text: string): z.infer<typeof answerNoticeSchema> | null {
  return parseNotice(answerNoticeSchema, text);
}

/** What the holder answers for an error of its run (a VantageError of ours keeps its code). */
export function failureAnswer(error: unknown): SatelliteRunAnswer {
  if (error instanceof VantageError && error.code in FAILURE_KINDS) return { ok: false, code: error.code as SatelliteRunFailure, message: error.message };
  return {
    ok: false,
    code: "satellite_run_failed",
    message: `The core holding the satellite could not carry out the run: ${error instanceof Error ? error.message : String(error)}`,
  };
}

export function answerOutcome(answer: SatelliteRunAnswer): RunOutcome {
  if (answer.ok) return answer.result;
  throw satelliteRunError(answer.code, answer.message);
}
