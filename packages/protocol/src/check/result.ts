// What one run of a check reports, wherever it ran: a status and a bounded detail (the
// verdict of every assertion, timings, what the probe saw). Whole bodies never travel: a
// failed run carries at most a 4 KiB excerpt.
import { z } from "zod";
import { ASSERTION_ON_FAIL } from "./assertions.ts";

/**
 * `up`, `degraded` (slow, or a `degrade` assertion failed), `down` (the target failed), or
 * `error`: the probe itself could not run (a bad CA file, an unknown type) — not the target's fault.
 */
export const CHECK_RUN_STATUSES = ["up", "degraded", "down", "error"] as const;
export const checkRunStatusSchema = z.enum(CHECK_RUN_STATUSES);
export type CheckRunStatus = z.infer<typeof checkRunStatusSchema>;

/** The longest excerpt of a response a failed run carries, in bytes of UTF-8. */
export const MAX_EXCERPT_BYTES = 4 * 1024;
/** An `actual` value in a verdict is cut to this many characters. */
export const MAX_VERDICT_VALUE_LENGTH = 200;

const shortText = (max: number) => z.string().max(max);

/** One assertion leaf's outcome: where it sits in the tree, what was expected and what was seen. */
export const assertionVerdictSchema = z.object({
  /** The leaf's place, e.g. `assertions[1].of[0]`. */
  path: shortText(200),
  subject: shortText(300),
  op: shortText(20),
  expected: z.unknown(),
  /** What the probe observed, cut to MAX_VERDICT_VALUE_LENGTH characters; absent when the subject is. */
  actual: z.unknown().optional(),
  pass: z.boolean(),
  /** The top-level assertion's `onFail`. */
  onFail: z.enum(ASSERTION_ON_FAIL),
});
export type AssertionVerdict = z.infer<typeof assertionVerdictSchema>;

export const checkResultDetailSchema = z.looseObject({
  /** Why the run is not up, in one line a user understands ("expected status 2xx, got 503"). */
  reason: shortText(1_000).optional(),
  /** A failure of the exchange itself: `timeout`, `connection_refused`, `dns`, `tls`, `probe_error` … */
  error: z.object({ code: shortText(100), message: shortText(1_000) }).optional(),
  assertions: z.array(assertionVerdictSchema).max(200).optional(),
  /** Milliseconds spent in each phase; absent phases did not happen (a reused or plain connection). */
  timings: z
    .object({
      dnsMs: z.number().nonnegative().optional(),
      connectMs: z.number().nonnegative().optional(),
      tlsMs: z.number().nonnegative().optional(),
      firstByteMs: z.number().nonnegative().optional(),
      totalMs: z.number().nonnegative(),
    })
    .optional(),
  http: z.object({ statusCode: z.number().int(), url: shortText(2_100).optional(), redirects: z.number().int().nonnegative().optional() }).optional(),
  tcp: z.object({ response: shortText(1_024).optional() }).optional(),
  dns: z.object({ rcode: shortText(20), answers: z.array(shortText(600)).max(50) }).optional(),
  /** The peer's certificate, for https, TLS-wrapped TCP and tls checks. */
  cert: z
    .object({
      expiresAt: z.iso.datetime(),
      daysRemaining: z.number().int(),
      issuer: shortText(500).optional(),
      subject: shortText(500).optional(),
      sans: z.array(shortText(300)).max(50).optional(),
    })
    .optional(),
  /** The start of the response, only when the run failed. */
  excerpt: z
    .string()
    .refine((text) => new TextEncoder().encode(text).length <= MAX_EXCERPT_BYTES, `an excerpt is at most ${MAX_EXCERPT_BYTES} bytes`)
    .optional(),
});
export type CheckResultDetail = z.infer<typeof checkResultDetailSchema>;
