// Wires one agent: config → logger, result buffer, scheduler, connection; runs until a
// stop (SIGTERM/SIGINT or the caller's signal) or a fatal answer from the core.
import { readFileSync } from "node:fs";
import { ASSIGNMENT_PARTS_CAPABILITY, RESEND_MARK_CAPABILITY, RUN_ON_DEMAND_CAPABILITY } from "@vantage/protocol";
import { type Clock, type Random, type TimerHandle, systemClock } from "./clock.ts";
import type { SatelliteConfig } from "./config.ts";
import { createConnection } from "./connection.ts";
import { type ExitCode, SatelliteError } from "./errors.ts";
import { type Logger, createAgentLogger } from "./log.ts";
import { defaultProbeRegistry } from "./probes/default-registry.ts";
import type { ProbeRegistry } from "./probes/registry.ts";
import { createResultBuffer } from "./result-buffer.ts";
import { createScheduler } from "./scheduler.ts";
import { AGENT_VERSION } from "./version.ts";

export { AGENT_VERSION };

/** After SIGTERM/SIGINT the process exits (code 1) if the graceful stop has not finished by then. */
export const SHUTDOWN_DEADLINE_MS = 5_000;

export interface RunOptions {
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  /** Probe types to run and announce (default: http, tcp, dns and tls, and whatever registerProbe() adds). */
  probes?: ProbeRegistry;
  /** Aborting it stops the agent as SIGTERM does. */
  signal?: AbortSignal;
  /** Process signals that stop the agent; [] for an agent inside another program or a test. */
  stopOnSignals?: NodeJS.Signals[];
  /** Reconnect delays; default 1 s doubling up to 30 s, with full jitter. */
  backoff?: { baseMs: number; maxMs: number };
  healthySessionMs?: number;
}

export interface RunOutcome {
  /** 0: stopped on request; 2: the core refused this satellite (credentials, deleted, token rotated). */
  exitCode: ExitCode;
  /** "stopped", or the stable code of the fatal error. */
  reason: string;
}

/** Runs the agent until it is stopped or the core refuses it for good. */
export async function run(config: SatelliteConfig, options: RunOptions = {}): Promise<RunOutcome> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const probes = options.probes ?? defaultProbeRegistry;
  const logger = options.logger ?? createAgentLogger({ level: config.logLevel, format: config.logFormat });
  // The probe types it runs, and the frames it understands beyond the first protocol's.
  const capabilities = [...probes.types(), RUN_ON_DEMAND_CAPABILITY, ASSIGNMENT_PARTS_CAPABILITY, RESEND_MARK_CAPABILITY];
  logger.info(
    { url: config.url, satelliteId: config.satelliteId, token: config.token, version: AGENT_VERSION, capabilities, bufferSize: config.bufferSize },
    "satellite agent starting",
  );

  const ca = config.caFile === undefined ? undefined : readCaFile(config.caFile);
  const buffer = createResultBuffer({ capacity: config.bufferSize, logger, clock });
  const scheduler = createScheduler({ probes, clock, random, logger, onResult: (result) => buffer.add(result) });
  const connection = createConnection({
    url: config.url,
    satelliteId: config.satelliteId,
    token: config.token,
    ca,
    version: AGENT_VERSION,
    capabilities,
    buffer,
    inFlight: () => scheduler.inFlight(),
    onRun: (check) => scheduler.runNow(check),
    onAssignments: (assignments) => {
      const changes = scheduler.replace(assignments);
      const changed = changes.added + changes.removed + changes.changed > 0;
      logger[changed ? "info" : "debug"](changes, changed ? "assignments changed" : "assignments unchanged");
    },
    logger,
    clock,
    random,
    backoff: options.backoff,
    healthySessionMs: options.healthySessionMs,
  });

  const stop = (why: Record<string, unknown>) => {
    logger.info(why, "stopping: saying bye to the core");
    scheduler.stop();
    void connection.stop();
  };
  const onAbort = () => stop({ reason: "stop requested" });
  let deadline: TimerHandle | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    detachSignals();
    deadline = clock.setTimeout(() => {
      logger.error(`the agent did not stop within ${SHUTDOWN_DEADLINE_MS} ms of ${signal}; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    stop({ signal });
  };
  const signals = options.stopOnSignals ?? ["SIGTERM", "SIGINT"];
  const detachSignals = () => signals.forEach((signal) => process.off(signal, onSignal));
  signals.forEach((signal) => process.on(signal, onSignal));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    const end = await connection.start();
    if (end.kind === "fatal") {
      logger.fatal({ code: end.error.code }, end.error.message);
      return { exitCode: end.error.exitCode, reason: end.error.code };
    }
    logger.info({ unacknowledgedResults: buffer.size, droppedResults: buffer.dropped }, "stopped");
    return { exitCode: 0, reason: "stopped" };
  } finally {
    clock.clearTimeout(deadline);
    scheduler.stop();
    detachSignals();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** The trusted CA certificates, read once at start: an unreadable file is the operator's to fix (exit 2). */
function readCaFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SatelliteError("invalid_config", `--ca-file (or VANTAGE_CA_FILE) cannot be read: ${(error as Error).message}`, { exitCode: 2, cause: error });
  }
}
