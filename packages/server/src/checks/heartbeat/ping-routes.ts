// The ping endpoints of heartbeat checks, outside /api/v1 and unauthenticated except by the
// token: GET|POST /hb/:token (success), /hb/:token/fail (failure), /hb/:token/start (a run
// starts; the next ping measures its duration). A ping is a result at location `push`, through
// the normal ingest, answered once it committed — health, rollups and triggers follow from it.
import { randomUUID } from "node:crypto";
import { PUSH_LOCATION } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { type ClientAddressOf, type FailureLimit, FailureLimiter, requestAddress } from "../../auth/index.ts";
import { errorBody } from "../../errors.ts";
import { describeRoute } from "../../http/index.ts";
import type { CheckResultInput } from "../results/check-result.ts";
import { endRun, findPingTarget, type PingTarget, startRun } from "./ping-tokens.ts";

/** Pings one check may receive per window: far above any sane schedule, low enough to stay cheap. */
export const DEFAULT_PING_LIMIT: FailureLimit = { max: 60, windowMs: 60_000 };
/** Unknown tokens one client address may try per window: guessing a 256-bit token is hopeless, and stays slow. */
export const DEFAULT_UNKNOWN_TOKEN_LIMIT: FailureLimit = { max: 30, windowMs: 60_000 };

export interface PingRoutesOptions {
  pool: pg.Pool;
  ingest: { submit(result: CheckResultInput): Promise<unknown> };
  now: () => number;
  clientAddressOf: ClientAddressOf;
  pingLimit?: FailureLimit;
  unknownTokenLimit?: FailureLimit;
}

type PingKind = "success" | "fail" | "start";

const pingParams = z.object({ token: z.string().describe("The heartbeat check's ping token (`vhb_…`), from its creation or its last rotation.") });

/** One description per kind of ping, shared by its GET and POST (a job pings with whatever it has: curl, wget). */
const pingDoc = (summary: string, description: string) =>
  describeRoute({
    summary,
    description: `${description} Needs no credentials but the token; GET and POST do the same.`,
    tag: "checks",
    public: true,
    params: pingParams,
    responses: { 200: { description: "Recorded (or, for a disabled check, taken and ignored)", schema: z.literal("OK\n"), contentType: "text/plain" } },
    errors: {
      404: "No heartbeat check has this token (`ping_not_found`): unknown, rotated or deleted.",
      429: "Too many pings for this check, or too many unknown tokens from this address (`too_many_pings`); retry after the Retry-After header.",
    },
  });

const PING_DOCS: Record<PingKind, ReturnType<typeof describeRoute>> = {
  success: pingDoc("Ping a heartbeat check: the job succeeded", "Records an `up` result at location `push`; after a start ping, its duration."),
  fail: pingDoc("Ping a heartbeat check: the job failed", "Records a `down` result at location `push` at once, without waiting for the deadline."),
  start: pingDoc("Ping a heartbeat check: the job started", "Records nothing yet: the next success or failure ping measures the run's duration from it."),
};

export function createPingRoutes(options: PingRoutesOptions): Hono {
  const { pool, now } = options;
  const pings = new FailureLimiter(options.pingLimit ?? DEFAULT_PING_LIMIT, now);
  const unknown = new FailureLimiter(options.unknownTokenLimit ?? DEFAULT_UNKNOWN_TOKEN_LIMIT, now);

  const tooMany = (c: Context, limiter: FailureLimiter, key: string) => {
    const seconds = Math.ceil(limiter.retryAfterMs([key]) / 1000);
    return c.json(errorBody("too_many_pings", `Too many pings; try again in ${seconds} s.`), 429, { "retry-after": String(seconds) });
  };

  /** What one ping records: the result of a run (success or failure), or the start of one. */
  const record = async (target: PingTarget, kind: PingKind): Promise<void> => {
    const at = now();
    if (kind === "start") return startRun(pool, target.checkId, at);
    const runStartedAt = await endRun(pool, target.checkId);
    await options.ingest.submit({
      resultId: randomUUID(),
      checkId: target.checkId,
      location: PUSH_LOCATION,
      // The ping's own time: the deadline counts from the last ping, not from the run's start.
      startedAt: new Date(at).toISOString(),
      durationMs: runStartedAt === null ? 0 : Math.max(0, at - runStartedAt.getTime()),
      status: kind === "success" ? "up" : "down",
      detail: kind === "fail" ? { reason: "the job reported a failure" } : {},
      checkType: "heartbeat",
    });
  };

  const ping = (kind: PingKind) => async (c: Context) => {
    const address = requestAddress(c, options.clientAddressOf);
    const addressKey = `address:${address}`;
    const attempt = unknown.begin([addressKey]);
    if (!attempt) return tooMany(c, unknown, addressKey);
    // Hashed and looked up whatever the token looks like: an unknown one costs what a known one does.
    const target = await findPingTarget(pool, c.req.param("token") ?? "");
    if (target === null) {
      attempt.failed();
      return c.json(errorBody("ping_not_found", "No heartbeat check has this ping token."), 404);
    }
    attempt.succeeded();
    const checkKey = `check:${target.checkId}`;
    const counted = pings.begin([checkKey]);
    if (!counted) return tooMany(c, pings, checkKey);
    // Every ping counts against its check's window, whatever became of it.
    counted.failed();
    // A disabled check takes its pings and records nothing (it is paused, not gone).
    if (target.enabled) await record(target, kind);
    return c.text("OK\n", 200);
  };

  const routes = new Hono();
  for (const [path, kind] of [
    ["/:token", "success"],
    ["/:token/fail", "fail"],
    ["/:token/start", "start"],
  ] as const) {
    routes.get(path, PING_DOCS[kind], ping(kind));
    routes.post(path, PING_DOCS[kind], ping(kind));
  }
  return routes;
}
