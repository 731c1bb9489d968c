// The heartbeat (push) check: a dead man's switch. Nothing probes it; a cron job or batch
// run pings its URL, and a missing ping past `periodSeconds + graceSeconds` is the failure.
// Its own definition (no target, no schedule, nowhere to run), beside the probe checks'.
import { z } from "zod";
import { checkDefinitionSchema, sharedCheckShape } from "./definition.ts";

export const HEARTBEAT_CHECK_TYPE = "heartbeat";
/** The location a ping is recorded at (no core nor satellite observes a push check). */
export const PUSH_LOCATION = "push";
export const MIN_HEARTBEAT_PERIOD_SECONDS = 30;
export const MAX_HEARTBEAT_PERIOD_SECONDS = 365 * 86_400;
export const DEFAULT_HEARTBEAT_PERIOD_SECONDS = 3_600;
export const MAX_HEARTBEAT_GRACE_SECONDS = 7 * 86_400;
export const DEFAULT_HEARTBEAT_GRACE_SECONDS = 300;
/** A ping token: `vhb_` and 43 base64url characters (256 random bits). */
export const PING_TOKEN_PATTERN = /^vhb_[A-Za-z0-9_-]{43}$/;

export const heartbeatCheckSchema = z.strictObject({
  ...sharedCheckShape,
  type: z.literal(HEARTBEAT_CHECK_TYPE),
  /** How often the job pings. */
  periodSeconds: z.number().int().min(MIN_HEARTBEAT_PERIOD_SECONDS).max(MAX_HEARTBEAT_PERIOD_SECONDS).default(DEFAULT_HEARTBEAT_PERIOD_SECONDS),
  /** How late a ping may be: the check is unhealthy once lastPing + period + grace passed. */
  graceSeconds: z.number().int().min(0).max(MAX_HEARTBEAT_GRACE_SECONDS).default(DEFAULT_HEARTBEAT_GRACE_SECONDS),
});
export type HeartbeatCheckDefinition = z.output<typeof heartbeatCheckSchema>;

/** Any check as users author it: a probe check or a heartbeat check, told apart by `type` (what POST and PUT /checks read). */
export const anyCheckDefinitionSchema = z.discriminatedUnion("type", [...checkDefinitionSchema.options, heartbeatCheckSchema]);

/** Its JSON Schema (input side: defaulted fields are optional), for editors and `GET /checks/schema`. */
export const anyCheckDefinitionJsonSchema = z.toJSONSchema(anyCheckDefinitionSchema, { io: "input", unrepresentable: "any" });

/** The response of creating a heartbeat check or rotating its token: the only time the token is shown. */
export const pingTokenResponseSchema = z.object({ pingToken: z.string().regex(PING_TOKEN_PATTERN), pingUrl: z.string() });
