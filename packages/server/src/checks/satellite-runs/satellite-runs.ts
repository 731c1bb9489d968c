// Runs on demand on a satellite ("run now" and "test before save" from that location): sent as
// a `run` frame by whichever core process holds the satellite's socket — this one, or another
// reached through a NOTIFY — and answered with the satellite's `runResult`. A stored check's
// result is stored by the holder, once, through the results ingest (the request id is its
// result id); a test run stores nothing.
import { randomUUID } from "node:crypto";
import { type Assignment, type CheckDefinition, RUN_ON_DEMAND_CAPABILITY, type RunOutcome } from "@vantage/protocol";
import { withTimeout } from "@vantage/outbound";
import type pg from "pg";
import { createLargeNoticeAssembler, type NotificationHub, publishLargeNotice } from "../../cluster/index.ts";
import type { SecretBox } from "../../crypto/index.ts";
import type { Logger } from "../../log.ts";
import type { SatelliteRegistry, SatelliteSession } from "../../satellites/index.ts";
import { assignmentOf } from "../assignments/assignment-of.ts";
import { columnsOfDetail, type CheckResultInput } from "../results/check-result.ts";
import type { ResultIngest } from "../results/ingest/result-ingest.ts";
import {
  answerNotice,
  answerOutcome,
  failureAnswer,
  parseAnswerNotice,
  parseRequestNotice,
  requestNotice,
  SATELLITE_RUN_ANSWERS_CHANNEL,
  SATELLITE_RUN_REQUESTS_CHANNEL,
  type SatelliteRunAnswer,
  type SatelliteRunRequest,
  satelliteRunError,
} from "./satellite-run-notices.ts";

/**
 * Added to a run's budget: the frames' and notices' travel, the satellite's event loop. The
 * budget itself is twice the check's timeout, since the agent first lets a scheduled run of
 * the check in flight end (runs of one check never overlap there).
 */
export const DEFAULT_RUN_MARGIN_MS = 5_000;

export interface SatelliteRunsOptions {
  pool: Pick<pg.Pool, "query">;
  hub: NotificationHub;
  logger: Logger;
  /** Seals the check a request carries to another core (credential headers in clear inside). */
  box: SecretBox;
  /** This core process: answers to its requests are addressed to it. */
  instanceId: string;
  /** The satellite's registration and presence (the registry's `get`: 404 for an unknown one). */
  satellites: Pick<SatelliteRegistry, "get">;
  /** The satellite's open session on this process, if its socket is here (the gateway's `session`). */
  session(satelliteId: string): SatelliteSession | undefined;
  /** Results ingest: a stored check's result, acknowledged once its batch committed. */
  ingest: Pick<ResultIngest, "submit">;
  marginMs?: number;
}

/** A run's outcome on a satellite, with the result id it was stored under (the run's request id). */
export type SatelliteRunResult = CheckResultInput;

export interface SatelliteRuns {
  /** Runs a stored check (its definition opened) once now on the satellite, and stores and answers its result. */
  runStored(satelliteId: string, check: { id: string; type: string }, definition: CheckDefinition): Promise<SatelliteRunResult>;
  /** Runs an unsaved definition once now on the satellite; stores nothing. */
  runTrial(satelliteId: string, definition: CheckDefinition): Promise<RunOutcome>;
  /** Listens for requests (to carry out for satellites held here) and answers (to requests made here). */
  start(): Promise<void>;
  /** Stops listening; runs waited for here end with `core_stopping`. */
  stop(): Promise<void>;
}

export function createSatelliteRuns(options: SatelliteRunsOptions): SatelliteRuns {
  const { pool, hub, box, instanceId } = options;
  const log = options.logger.child({ component: "satellite-runs" });
  const marginMs = options.marginMs ?? DEFAULT_RUN_MARGIN_MS;
  /** Requests made here and carried out elsewhere, by request id. */
  const waiting = new Map<string, (answer: SatelliteRunAnswer) => void>();
  /** Every run this process waits for or carries out: aborted when it stops. */
  const stopping = new AbortController();
  const unsubscribes: Array<() => Promise<void>> = [];

  /** Carries a run out on the satellite's socket here; stores a stored check's result. */
  const carryOut = async (request: SatelliteRunRequest): Promise<RunOutcome> => {
    const session = options.session(request.satelliteId);
    if (!session)
      throw satelliteRunError(
        "satellite_offline",
        `Satellite ${request.satelliteId} disconnected before the run could be sent; run it again once it is back, or from another location.`,
      );
    if (!session.capabilities.includes(RUN_ON_DEMAND_CAPABILITY)) throw upgradeRequired(request.satelliteId, session.version);
    // Not AbortSignal.timeout inside any(): Node can collect it before it fires (see withTimeout).
    const deadline = withTimeout(stopping.signal, request.deadlineMs);
    let outcome: RunOutcome;
    try {
      outcome = await session.run(request.requestId, request.check, deadline.signal);
    } catch (error) {
      if (stopping.signal.aborted) throw satelliteRunError("core_stopping", "The core holding the satellite stopped during the run; run it again.");
      if (deadline.signal.aborted) throw timedOut(request.satelliteId, request.deadlineMs);
      throw error;
    } finally {
      deadline.release();
    }
    if (request.checkId !== null) {
      const { checkId, checkType, satelliteId, requestId } = request;
      try {
        await options.ingest.submit({ resultId: requestId, checkId, location: satelliteId, ...outcome, ...columnsOfDetail(outcome.detail), checkType });
      } catch (error) {
        throw satelliteRunError("satellite_run_failed", "The satellite answered, but its result could not be stored; run it again.", error);
      }
    }
    return outcome;
  };

  /** A request made here for a satellite held by another core: NOTIFY it, await its answer. */
  const relay = async (request: SatelliteRunRequest): Promise<RunOutcome> => {
    const waitMs = request.deadlineMs + marginMs;
    const answered = new Promise<SatelliteRunAnswer>((resolve) => {
      const timer = setTimeout(
        () => finish(failureAnswer(timedOut(request.satelliteId, waitMs, "neither the satellite nor the core holding it answered"))),
        waitMs,
      );
      const onStop = () => finish(failureAnswer(satelliteRunError("core_stopping", "This core stopped during the run; run it again.")));
      const finish = (answer: SatelliteRunAnswer) => {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", onStop);
        waiting.delete(request.requestId);
        resolve(answer);
      };
      stopping.signal.addEventListener("abort", onStop, { once: true });
      waiting.set(request.requestId, finish);
    });
    try {
      await publishLargeNotice(pool, SATELLITE_RUN_REQUESTS_CHANNEL, requestNotice(request, instanceId, box));
    } catch (error) {
      waiting.get(request.requestId)?.(failureAnswer(error));
    }
    return answerOutcome(await answered);
  };

  /** The checks every request passes where it is made: the satellite exists, is online and can run on demand. */
  const request = async (satelliteId: string, requestId: string, checkId: string | null, checkType: string, check: Assignment): Promise<RunOutcome> => {
    const satellite = await options.satellites.get(satelliteId);
    if (satellite.status !== "online") {
      const seen = satellite.lastSeenAt ? `last seen ${satellite.lastSeenAt}` : "not connected";
      throw satelliteRunError(
        "satellite_offline",
        `Satellite ${satellite.name} is offline (${seen}): start its agent, or run the check from another location.`,
      );
    }
    if (!satellite.capabilities.includes(RUN_ON_DEMAND_CAPABILITY)) throw upgradeRequired(satellite.name, satellite.version);
    if (stopping.signal.aborted) throw satelliteRunError("core_stopping", "This core is stopping; run it again.");
    const runRequest: SatelliteRunRequest = { requestId, satelliteId, checkId, checkType, check, deadlineMs: 2 * check.timeoutMs + marginMs };
    return options.session(satelliteId) ? carryOut(runRequest) : relay(runRequest);
  };

  const onRequest = createHandler(SATELLITE_RUN_REQUESTS_CHANNEL, (text) => {
    const notice = parseRequestNotice(text, box);
    if (!notice) return log.warn("ignored a malformed run request notice");
    // Only the core holding the satellite's socket acts; the others hear it and do nothing.
    if (!options.session(notice.satelliteId)) return;
    const { from, ...request } = notice;
    void carryOut(request)
      .then((result): SatelliteRunAnswer => ({ ok: true, result }), failureAnswer)
      .then((answer) => publishLargeNotice(pool, SATELLITE_RUN_ANSWERS_CHANNEL, answerNotice(request.requestId, from, answer)))
      .catch((error: unknown) =>
        log.warn({ err: error, requestId: request.requestId }, "could not answer a run on demand relayed from another core; it times out there"),
      );
  });

  const onAnswer = createHandler(SATELLITE_RUN_ANSWERS_CHANNEL, (text) => {
    const notice = parseAnswerNotice(text);
    if (!notice) return log.warn("ignored a malformed run answer notice");
    if (notice.to === instanceId) waiting.get(notice.requestId)?.(notice.answer);
  });

  function createHandler(channel: string, handle: (text: string) => void) {
    const assembler = createLargeNoticeAssembler();
    return (payload: string) => {
      const text = assembler.add(payload);
      if (text === null) return;
      try {
        handle(text);
      } catch (error) {
        log.warn({ err: error, channel }, "ignored a run notice that could not be read (is every core started with the same secret key?)");
      }
    };
  }

  return {
    async runStored(satelliteId, check, definition) {
      // The request id is the stored result's id.
      const requestId = randomUUID();
      const outcome = await request(satelliteId, requestId, check.id, check.type, assignmentOf(check.id, definition));
      return { resultId: requestId, checkId: check.id, location: satelliteId, ...outcome, ...columnsOfDetail(outcome.detail) };
    },
    async runTrial(satelliteId, definition) {
      // An unsaved definition has no id: the request's own stands in for it on the satellite.
      const requestId = randomUUID();
      return request(satelliteId, requestId, null, definition.type, assignmentOf(requestId, definition));
    },
    async start() {
      unsubscribes.push(await hub.subscribe(SATELLITE_RUN_REQUESTS_CHANNEL, onRequest));
      unsubscribes.push(await hub.subscribe(SATELLITE_RUN_ANSWERS_CHANNEL, onAnswer));
    },
    async stop() {
      stopping.abort();
      for (const unsubscribe of unsubscribes.splice(0)) await unsubscribe();
    },
  };
}

function upgradeRequired(satellite: string, version: string | null): Error {
  return satelliteRunError(
    "satellite_upgrade_required",
    `Satellite ${satellite} runs agent version ${version ?? "unknown"}, which cannot run checks on demand (it does not announce "${RUN_ON_DEMAND_CAPABILITY}"): upgrade the agent, or run the check from another location.`,
  );
}

function timedOut(satelliteId: string, afterMs: number, who = "the satellite did not answer"): Error {
  return satelliteRunError(
    "satellite_run_timeout",
    `No result from satellite ${satelliteId} within ${afterMs} ms (${who}); nothing was stored. Run it again, or check the satellite's log.`,
  );
}
