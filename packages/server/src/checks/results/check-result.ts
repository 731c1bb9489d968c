// A probe run's result as the core's scheduler or a satellite's `result` frame hands it to
// ingest, and the retention that decides how long each level of results is kept.
import type { CheckResultDetail } from "@vantage/protocol";
import { z } from "zod";

export const CHECK_RESULT_STATUSES = ["up", "degraded", "down", "error"] as const;
/** `error`: the probe itself could not run (it says nothing about the target). */
export type CheckResultStatus = (typeof CHECK_RESULT_STATUSES)[number];

export const MAX_RESULT_DETAIL_BYTES = 16 * 1024;

/**
 * What ingest stores. Callers validate at their edge (the satellite frame schema, the
 * scheduler's own output); `checkResultInputSchema` is here for callers that have none.
 */
export interface CheckResultInput {
  /** Unique per run: a satellite resends it after a reconnect, and it is stored once. */
  resultId: string;
  checkId: string;
  /** "core" or the satellite's id. */
  location: string;
  /** ISO timestamp; stored to the millisecond. */
  startedAt: string;
  /** ≥ 0; stored rounded to whole milliseconds. */
  durationMs: number;
  status: CheckResultStatus;
  /** Assertion verdicts, timings, the error, an excerpt on failure: at most 16 KiB as JSON. */
  detail: Record<string, unknown>;
  /** The HTTP status of the answer, for queries; stored beside `detail`. */
  statusCode?: number | null;
  /** A stable error code (e.g. "timeout", "dns_nxdomain") when the run failed. */
  errorCode?: string | null;
  /** The check's type, for metrics only (`vantage_check_results_total{type}`); not stored. */
  checkType?: string;
  /**
   * The submitter may have sent this result before (a satellite's resend after a reconnect):
   * its batch skips stored results with ON CONFLICT at once, instead of after a failed plain
   * insert. Unset, a resend is still stored once, only dearer. Not stored.
   */
  resend?: boolean;
}

/** The columns stored beside a result's detail for queries, read from the detail itself. */
export function columnsOfDetail(detail: CheckResultDetail): Pick<CheckResultInput, "statusCode" | "errorCode"> {
  return { statusCode: detail.http?.statusCode ?? null, errorCode: detail.error?.code ?? null };
}

export const checkResultInputSchema = z.object({
  resultId: z.uuid(),
  checkId: z.uuid(),
  location: z.string().min(1).max(64),
  startedAt: z.iso.datetime({ offset: true }),
  durationMs: z.number().nonnegative().max(2_147_483_647),
  status: z.enum(CHECK_RESULT_STATUSES),
  detail: z
    .record(z.string(), z.unknown())
    .refine((detail) => Buffer.byteLength(JSON.stringify(detail)) <= MAX_RESULT_DETAIL_BYTES, `must be at most ${MAX_RESULT_DETAIL_BYTES / 1024} KiB as JSON`),
  statusCode: z.number().int().min(0).max(32_767).nullish(),
  errorCode: z.string().max(100).nullish(),
  checkType: z.string().max(100).optional(),
  resend: z.boolean().optional(),
}) satisfies z.ZodType<CheckResultInput>;

/** Days each level is kept; a level is only ever dropped as whole partitions, so a bit longer. */
export interface ResultRetention {
  rawDays: number;
  rollup1mDays: number;
  rollup1hDays: number;
  rollup1dDays: number;
}

/**
 * raw 14 days (recent failures, recomputing late minutes), 1 minute 30 days (charts up to a
 * week, with margin), 1 hour 400 days (year-on-year), 1 day 5 years.
 */
export const DEFAULT_RESULT_RETENTION: Readonly<ResultRetention> = { rawDays: 14, rollup1mDays: 30, rollup1hDays: 400, rollup1dDays: 5 * 366 };

/** Where each level's retention is configured, for error messages. */
export const RETENTION_SETTINGS: Readonly<Record<keyof ResultRetention, string>> = {
  rawDays: "VANTAGE_RETENTION_RAW_DAYS",
  rollup1mDays: "VANTAGE_RETENTION_1M_DAYS",
  rollup1hDays: "VANTAGE_RETENTION_1H_DAYS",
  rollup1dDays: "VANTAGE_RETENTION_1D_DAYS",
};

/**
 * Why a retention cannot work, or null. Each level is recomputed from the one below it, so a
 * level must live at least as long as the one below (a late result corrects its minute from raw,
 * then its hour from the minutes and its day from the hours).
 */
export function retentionProblem(retention: ResultRetention): { field: keyof ResultRetention; message: string } | null {
  const order: Array<keyof ResultRetention> = ["rawDays", "rollup1mDays", "rollup1hDays", "rollup1dDays"];
  for (let i = 1; i < order.length; i++) {
    const finer = order[i - 1]!;
    const coarser = order[i]!;
    if (retention[coarser] < retention[finer]) {
      return {
        field: coarser,
        message: `${RETENTION_SETTINGS[coarser]} (${retention[coarser]} days) must be at least ${RETENTION_SETTINGS[finer]} (${retention[finer]} days): each rollup level is rebuilt from the one below it`,
      };
    }
  }
  return null;
}
