// A core instance with the satellite side wired as main.ts wires it — service, registry,
// heartbeat buffer, monitor and gateway on a real HTTP server on 127.0.0.1, and optionally the
// checks' satellite assignments and result sink — with short, injectable intervals, and a way
// to die without cleaning up.
import type { Server } from "node:http";
import { Hono } from "hono";
import { pino } from "pino";
import { checkDefinitionSchema } from "@vantage/protocol";
import { Registry } from "prom-client";
import {
  createSatelliteAssignments,
  type SatelliteAssignments,
  type SatelliteAssignmentsOptions,
} from "../../../src/checks/assignments/satellite-assignments.ts";
import { createSatelliteResultSink, type SubmitResult } from "../../../src/checks/assignments/satellite-result-sink.ts";
import { startHttpServer } from "../../../src/http/http-server.ts";
import { createSatelliteGateway, type SatelliteGateway, type SatelliteGatewayOptions } from "../../../src/satellites/gateway/index.ts";
import { createHeartbeatBuffer, type HeartbeatBuffer, type HeartbeatBufferOptions } from "../../../src/satellites/connection/heartbeat-buffer.ts";
import { createHeartbeatMonitor, type HeartbeatMonitor, type HeartbeatMonitorOptions } from "../../../src/satellites/connection/heartbeat-monitor.ts";
import { SatelliteRegistry, type SatelliteRegistryOptions } from "../../../src/satellites/registry/registry.ts";
import { SatelliteService } from "../../../src/satellites/connection/service.ts";
import { killConnections, startTestInstance, type TestInstance } from "../instance.ts";

export interface SatelliteCoreOptions {
  now?: () => number;
  heartbeatIntervalMs?: number;
  flushIntervalMs?: number;
  monitor?: Partial<Pick<HeartbeatMonitorOptions, "intervalMs" | "takeoverIntervalMs" | "onSweep" | "batchSize">> | false;
  gateway?: Partial<SatelliteGatewayOptions>;
  heartbeats?: Partial<HeartbeatBufferOptions>;
  registry?: Pick<SatelliteRegistryOptions, "credentialsBatchWindowMs">;
  /** false: the buffer only flushes when the test calls flush(). */
  startHeartbeats?: boolean;
  /**
   * Assigns checks from the checks table as main.ts does (`true`: definitions stored in clear,
   * read as they are). Gateway options given explicitly win over it.
   */
  assignments?: true | Partial<Pick<SatelliteAssignmentsOptions, "openDefinition" | "retryMs">>;
  /** Where satellites' results go, as main.ts hands them to the results ingest. */
  submitResult?: SubmitResult;
}

export interface SatelliteCore extends TestInstance {
  url: string;
  server: Server;
  metrics: Registry;
  satellites: SatelliteService;
  registry: SatelliteRegistry;
  heartbeats: HeartbeatBuffer;
  monitor: HeartbeatMonitor | undefined;
  gateway: SatelliteGateway;
  /** With the `assignments` option. */
  assignments: SatelliteAssignments | undefined;
  /** Creates a satellite through the registry (region eu-west and no tags unless given): its id and its one-time token. */
  createSatellite(options?: { name?: string; offlineThresholdMs?: number; region?: string; tags?: string[] }): Promise<{ satelliteId: string; token: string }>;
  /**
   * Dies as a killed process would: its database connections are cut and its pool refuses
   * new ones before its sockets drop, so no close, flush or lock release reaches PostgreSQL.
   */
  crash(): Promise<void>;
}

let satellites = 0;

export async function startSatelliteCore(databaseUrl: string, name: string, options: SatelliteCoreOptions = {}): Promise<SatelliteCore> {
  const instance = await startTestInstance(databaseUrl, name);
  const { pool, entities, hub } = instance;
  const now = options.now ?? Date.now;
  const logger = silent();
  const metrics = new Registry();
  const service = new SatelliteService({ pool, entities, now, logger });
  const registry = new SatelliteRegistry({ pool, satellites: service, now, ...options.registry });
  const heartbeats = createHeartbeatBuffer({
    pool,
    satellites: service,
    logger,
    now,
    flushIntervalMs: options.flushIntervalMs ?? 50,
    registry: metrics,
    ...options.heartbeats,
  });
  if (options.startHeartbeats ?? true) heartbeats.start();
  const monitor =
    options.monitor === false
      ? undefined
      : createHeartbeatMonitor({ pool, satellites: service, logger, registry: metrics, intervalMs: 50, takeoverIntervalMs: 50, ...options.monitor });
  monitor?.start();
  const assignments = options.assignments
    ? createSatelliteAssignments({
        pool,
        hub,
        logger,
        registry: metrics,
        profiles: (ids) => registry.profiles(ids),
        openDefinition: (row) => checkDefinitionSchema.parse(row.definition),
        retryMs: 50,
        ...(options.assignments === true ? {} : options.assignments),
      })
    : undefined;
  await assignments?.start();
  const gateway = createSatelliteGateway({
    satellites: service,
    heartbeats,
    authenticate: (id, token, verify) => registry.verifyCredentials(id, token, verify),
    // As the product runs; a test that stands in for the credentials check gets only its own.
    checkTokensInConnect: options.gateway?.authenticate === undefined,
    hub,
    logger,
    instanceId: name,
    registry: metrics,
    now,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 100,
    closeGraceMs: 200,
    ...(assignments ? { assignmentsFor: assignments.assignmentsFor, sessionObserver: assignments.sessionObserver } : {}),
    ...(options.submitResult ? { resultSink: createSatelliteResultSink(options.submitResult) } : {}),
    ...options.gateway,
  });
  const http = await startHttpServer(new Hono(), { host: "127.0.0.1", port: 0 });
  await gateway.start(http.server);

  /** main.ts's order: sockets (with their disconnects), heartbeats, monitor, HTTP, the rest. */
  const stopSatellites = async () => {
    await gateway.stop();
    await assignments?.stop();
    await heartbeats.stop();
    await monitor?.stop();
    await http.close();
  };
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await stopSatellites();
      await instance.stop();
    })());

  return {
    ...instance,
    url: http.url,
    server: http.server,
    metrics,
    satellites: service,
    registry,
    heartbeats,
    monitor,
    gateway,
    assignments,
    createSatellite: async (satellite = {}) => {
      satellites += 1;
      const { satellite: view, token } = await registry.create({
        name: satellite.name ?? `${name}-sat-${satellites}`,
        region: satellite.region ?? "eu-west",
        tags: satellite.tags,
        offlineThresholdMs: satellite.offlineThresholdMs,
      });
      return { satelliteId: view.id, token };
    },
    crash: () =>
      (stopped ??= (async () => {
        const ended = pool.end();
        await killConnections(databaseUrl, name);
        await ended;
        // Sockets drop now; their close handlers find no database to record anything in.
        await stopSatellites();
        await instance.router.stop();
        await instance.hub.stop();
      })()),
    stop,
  };
}

function silent() {
  return pino({ level: process.env.TEST_LOG ? "warn" : "silent" });
}
