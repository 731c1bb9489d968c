// The gateway's result sink: a satellite's result frame becomes a result of its location (the
// satellite's id) for the batched ingest, and resolves once its batch committed — only then is
// it acknowledged, so a result lost to a failed batch is sent again by the satellite.
import type { ResultFrame } from "@vantage/protocol";
import type { ResultSink } from "../../satellites/index.ts";

/**
 * A result as the results ingest takes it (`CheckResultInput` of checks/results, which is
 * written alongside: this is its shape, so its `submit` plugs in as it is).
 */
export interface SubmittedResult {
  resultId: string;
  checkId: string;
  /** The satellite's id: each satellite is a location of its own. */
  location: string;
  startedAt: string;
  durationMs: number;
  status: ResultFrame["status"];
  detail: Record<string, unknown>;
  statusCode?: number | null;
  errorCode?: string | null;
}

/** Queues a result for the next batch; resolves once that batch committed, rejects if it failed. */
export type SubmitResult = (result: SubmittedResult) => Promise<unknown>;

export function createSatelliteResultSink(submit: SubmitResult): ResultSink {
  return async (satelliteId, frame) => {
    await submit({
      resultId: frame.resultId,
      checkId: frame.checkId,
      location: satelliteId,
      startedAt: frame.startedAt,
      durationMs: frame.durationMs,
      status: frame.status,
      detail: frame.detail,
      statusCode: frame.detail.http?.statusCode ?? null,
      errorCode: frame.detail.error?.code ?? null,
    });
  };
}
