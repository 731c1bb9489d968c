// What the core location runs with until the other parts of issue #11 are wired into main.ts:
// an HTTP probe over the core's outbound client (for @vantage/probes' runProbe), definitions read
// straight from `checks` (for the definitions store, which opens sealed headers) and a log line
// per result (for results ingest). Each is one seam of startCoreLocation; wiring the real part
// replaces it, and this file goes.
import { type CheckDefinition, checkDefinitionSchema } from "@vantage/protocol";
import type pg from "pg";
import { z } from "zod";
import type { Logger } from "../../log.ts";
import { outbound } from "../../outbound/index.ts";
import type { CoreCheckSource, ResultSubmitter, StoredCheck } from "./core-runs.ts";
import { failedOutcome, type RunProbe } from "./probe-run.ts";

/**
 * http checks only: up when the target answers with a 2xx status, down otherwise; no
 * assertions or timings. Other types report `error`.
 */
export const standInRunProbe: RunProbe = async (spec, { signal }) => {
  if (spec.type !== "http") return failedOutcome("error", "unsupported_type", `this core has no ${spec.type} probe yet`);
  const started = performance.now();
  const answer = await outbound.request({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    timeoutMs: spec.timeoutMs,
    signal,
    redirect: spec.followRedirects ? { follow: spec.maxRedirects } : "refuse",
  });
  const timings = { totalMs: Math.round(performance.now() - started) };
  if (answer.ok && answer.status >= 200 && answer.status < 300) return { status: "up", detail: { timings, http: { statusCode: answer.status } } };
  const reason = answer.ok ? `expected status 2xx, got ${answer.status}` : answer.message;
  return { status: "down", detail: { reason, timings, ...(answer.status ? { http: { statusCode: answer.status } } : {}) } };
};

const SELECT_CHECK = "SELECT id, type, definition FROM checks WHERE id = $1";

/** Definitions as stored; one with a sealed header cannot be opened here and runs as `error`. */
export function standInCheckSource(pool: Pick<pg.Pool, "query">): CoreCheckSource {
  return {
    async find(id) {
      if (!z.uuid().safeParse(id).success) return null;
      return (await pool.query<StoredCheck>(SELECT_CHECK, [id])).rows[0] ?? null;
    },
    open(check): CheckDefinition {
      const parsed = checkDefinitionSchema.safeParse(check.definition);
      if (parsed.success) return parsed.data;
      throw new Error(`it does not read as a check definition (${parsed.error.issues[0]?.message}); sealed headers are opened only by the definitions store`);
    },
  };
}

/** Logs each result at debug level and stores nothing. */
export function standInResultSink(logger: Logger): ResultSubmitter {
  const log = logger.child({ component: "core-location" });
  return {
    submit(result) {
      log.debug({ checkId: result.checkId, resultId: result.resultId, status: result.status, durationMs: result.durationMs }, "core check result");
      return Promise.resolve();
    },
  };
}
