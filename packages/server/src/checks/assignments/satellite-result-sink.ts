// The gateway's result sink: a satellite's result frame becomes a result of its location (the
// satellite's id) for the batched ingest, and resolves once its batch committed — only then is
// it acknowledged, so a result lost to a failed batch is sent again by the satellite.
import type { ResultSink } from "../../satellites/index.ts";
import type { CheckResultInput } from "../results/check-result.ts";

/** The ingest's `submit`: queues a result for the next batch; resolves once that batch committed, rejects if it failed. */
export type SubmitResult = (result: CheckResultInput) => Promise<unknown>;

/** `typeOf`: the check's type, which results are counted under (`unknown` when not known). */
export function createSatelliteResultSink(submit: SubmitResult, typeOf: (checkId: string) => string | undefined = () => undefined): ResultSink {
  return async (satelliteId, frame) => {
    await submit({
      checkType: typeOf(frame.checkId),
      resultId: frame.resultId,
      checkId: frame.checkId,
      // Each satellite is a location of its own.
      location: satelliteId,
      startedAt: frame.startedAt,
      durationMs: frame.durationMs,
      status: frame.status,
      detail: frame.detail,
      statusCode: frame.detail.http?.statusCode ?? null,
      errorCode: frame.detail.error?.code ?? null,
      resend: frame.resend,
    });
  };
}
