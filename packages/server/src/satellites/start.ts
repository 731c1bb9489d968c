// Starts the satellites module in a core: the registry and its API, the satellite-connection
// entity and the satellite.* triggers at once; the heartbeat monitor and the gateway (on the
// core's HTTP server) once the core serves — the last parts a core starts, the first it stops.
// What satellites run and where their results go is the checks module's, attached before then.
import { HEARTBEAT_INTERVAL_MS } from "@vantage/protocol";
import type { CoreModule, ModuleDeps, Serving } from "../core-module.ts";
import { satelliteTriggers } from "./connection/triggers.ts";
import { type AssignmentsFor, createSatelliteGateway, type ResultSink, type SatelliteGateway, type SessionObserver } from "./gateway/index.ts";
import { createHeartbeatBuffer } from "./connection/heartbeat-buffer.ts";
import { createHeartbeatMonitor, type HeartbeatMonitor } from "./connection/heartbeat-monitor.ts";
import { SatelliteRegistry } from "./registry/registry.ts";
import { createSatelliteRoutes } from "./registry/registry-routes.ts";
import { SatelliteService } from "./connection/service.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export interface SatellitesOptions {
  /** Time a new satellite socket has to say hello. */
  helloTimeoutMs?: number;
  /** Time between heartbeat monitor sweeps (at most 2 s). */
  monitorIntervalMs?: number;
}

/** The checks module's side of the gateway. */
export interface SatelliteChecks {
  /** Each satellite's full set, for its welcome. */
  assignmentsFor: AssignmentsFor;
  /** Told of the sessions opened and closed here: later changes are pushed through them. */
  sessionObserver: SessionObserver;
  /** Stores a satellite's result; resolving means it is durable (then it is acknowledged). */
  resultSink: ResultSink;
}

export interface SatellitesModule extends CoreModule {
  /** The satellites table and the satellite-connection entity. */
  service: SatelliteService;
  /** Creating, editing and deleting satellites, their tokens and credentials. */
  registry: SatelliteRegistry;
  gateway: SatelliteGateway;
  monitor: HeartbeatMonitor;
  /**
   * Hands the gateway the checks module's side (that module starts after this one), before
   * serve(). Until then, satellites are welcomed with no checks and their results are dropped.
   */
  attachChecks(checks: SatelliteChecks): void;
  serve(serving: Serving): Promise<void>;
}

export async function startSatellites(deps: ModuleDeps, options: SatellitesOptions = {}): Promise<SatellitesModule> {
  const { pool, logger, now, metrics } = deps;
  const heartbeatIntervalMs = deps.config.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  // Defines the satellite-connection kind and its change deriver on the entity registry.
  const service = new SatelliteService({ pool, entities: deps.entities, now, logger });
  for (const trigger of satelliteTriggers) deps.triggers.register(trigger);
  const registry = new SatelliteRegistry({ pool, satellites: service, now });
  const monitor = createHeartbeatMonitor({ pool, satellites: service, logger, registry: metrics, intervalMs: options.monitorIntervalMs });
  const heartbeats = createHeartbeatBuffer({ pool, satellites: service, logger, now, registry: metrics });
  let checks: SatelliteChecks | undefined;
  const gateway = createSatelliteGateway({
    satellites: service,
    heartbeats,
    authenticate: (satelliteId, token, verify) => registry.verifyCredentials(satelliteId, token, verify),
    // The registry's tokens are stored as SHA-256: a hello's is checked by its connected edge.
    checkTokensInConnect: true,
    clientAddressOf: deps.clientAddressOf,
    hub: deps.hub,
    logger,
    instanceId: deps.instanceId,
    registry: metrics,
    now,
    heartbeatIntervalMs,
    helloTimeoutMs: options.helloTimeoutMs,
    assignmentsFor: async (satellite, capabilities) => (checks ? checks.assignmentsFor(satellite, capabilities) : []),
    sessionObserver: { opened: (session) => checks?.sessionObserver.opened(session), closed: (session) => checks?.sessionObserver.closed(session) },
    resultSink: async (satelliteId, result) => checks?.resultSink(satelliteId, result),
  });

  return {
    routes: { "/satellites": createSatelliteRoutes({ registry, heartbeatIntervalMs }) },
    service,
    registry,
    gateway,
    monitor,
    attachChecks(attached) {
      checks = attached;
    },
    async serve({ server }) {
      monitor.start();
      deps.onStop("heartbeat monitor", monitor.stop);
      heartbeats.start();
      await gateway.start(server);
      // Stopped first when started last: every socket is handed over — its heartbeats
      // written, then told `shutdown {server_shutdown}`, its satellite left `connected` to
      // reconnect to any core (no disconnect is recorded) — then the buffer stops.
      deps.onStop("satellite gateway", async () => {
        await gateway.stop();
        await heartbeats.stop();
      });
    },
  };
}
