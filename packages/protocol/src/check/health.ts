// How a check's results become its health: the policy over its locations, the per-location
// thresholds, an optional sliding window and the staleness grace. Part of the check
// definition (`health`), with defaults, so a check that says nothing behaves as documented.
import { z } from "zod";

export const DEFAULT_FAILURES_TO_UNHEALTHY = 3;
export const DEFAULT_SUCCESSES_TO_RECOVER = 2;
/** Added to interval + timeout before a location without a result counts as unobservable. */
export const DEFAULT_HEALTH_GRACE_SECONDS = 30;
export const MAX_HEALTH_THRESHOLD = 100;
/** The largest sliding window; bounded so the JSON Schema can spell out `failures ≤ size`. */
export const MAX_HEALTH_WINDOW = 50;
export const MAX_HEALTH_GRACE_SECONDS = 86_400;

/**
 * Over the observable locations O: `any` — one unhealthy location makes the check unhealthy;
 * `all` — all of O must be; `{ quorum: n }` — n of them; `{ percent: p }` — p % of the
 * check's known locations (rounded up), so losing observers can leave too few for a verdict.
 */
export const healthPolicySchema = z.union([
  z.literal("any"),
  z.literal("all"),
  z.strictObject({ quorum: z.number().int().min(1).max(MAX_HEALTH_THRESHOLD) }),
  z.strictObject({ percent: z.number().gt(0).max(100) }),
]);
export type HealthPolicy = z.infer<typeof healthPolicySchema>;

/** `failures ≤ size`, spelled out per size for JSON Schema (which cannot compare two fields). */
const windowJsonSchema = {
  anyOf: Array.from({ length: MAX_HEALTH_WINDOW }, (_, index) => ({
    properties: { size: { const: index + 1 }, failures: { type: "number", maximum: index + 1 } },
  })),
};

/**
 * A sliding window instead of a failure streak: a location turns unhealthy once `failures`
 * of its last `size` results failed (it still recovers after `successesToRecover` successes).
 */
export const healthWindowSchema = z
  .strictObject({
    size: z.number().int().min(1).max(MAX_HEALTH_WINDOW),
    failures: z.number().int().min(1).max(MAX_HEALTH_WINDOW),
  })
  .refine((window) => window.failures <= window.size, { message: "failures cannot exceed size (the window could never trip)", path: ["failures"] })
  .meta(windowJsonSchema);
export type HealthWindow = z.infer<typeof healthWindowSchema>;

export const checkHealthOptionsSchema = z.strictObject({
  policy: healthPolicySchema.default("any"),
  /** Failed results in a row that make a location unhealthy. */
  failuresToUnhealthy: z.number().int().min(1).max(MAX_HEALTH_THRESHOLD).default(DEFAULT_FAILURES_TO_UNHEALTHY),
  /** Successful results in a row that bring an unhealthy location back. */
  successesToRecover: z.number().int().min(1).max(MAX_HEALTH_THRESHOLD).default(DEFAULT_SUCCESSES_TO_RECOVER),
  window: healthWindowSchema.optional(),
  /** A location with no result for interval + timeout + this is unobservable. */
  graceSeconds: z.number().int().min(0).max(MAX_HEALTH_GRACE_SECONDS).default(DEFAULT_HEALTH_GRACE_SECONDS),
});
export type CheckHealthOptions = z.output<typeof checkHealthOptionsSchema>;
export type CheckHealthOptionsInput = z.input<typeof checkHealthOptionsSchema>;

export const DEFAULT_CHECK_HEALTH: Readonly<CheckHealthOptions> = checkHealthOptionsSchema.parse({});
