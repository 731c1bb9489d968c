// The contract between the core and the modules it assembles. A module's start function
// (startSatellites, startNotifications, startAutomations, …) receives the core's shared parts,
// declares its reactive contract on them once — entity kinds, change derivers, triggers,
// router sinks — hands the core what to stop, and returns its API routes and its public parts.
import type { Server } from "node:http";
import type { Hono } from "hono";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { ClientAddressOf } from "./auth/index.ts";
import type { TriggerRegistry } from "./automations/index.ts";
import type { NotificationHub } from "./cluster/index.ts";
import type { ServerConfig } from "./config.ts";
import type { SecretBox } from "./crypto/index.ts";
import type { EntityRegistry, EntityRouter } from "./entities/index.ts";
import type { Logger } from "./log.ts";

/** What every module's start function receives: the parts of one core instance that modules share. */
export interface ModuleDeps {
  /** This core process, as satellites, logs and responses name it. */
  instanceId: string;
  config: ServerConfig;
  pool: pg.Pool;
  /** The database's connection string, for parts that open connections of their own (the job queue). */
  databaseUrl: string;
  /** Cross-process wake-ups: LISTEN/NOTIFY on one shared connection. */
  hub: NotificationHub;
  /** Where a module defines its entity kinds and change derivers. */
  entities: EntityRegistry;
  /** Where a module registers the triggers it offers automations. */
  triggers: TriggerRegistry;
  /** Where a module adds its change sinks; the core starts the router once every module has. */
  router: Pick<EntityRouter, "addSink">;
  /** Seals secrets at rest. */
  box: SecretBox;
  /** The instance's Prometheus registry, served at /metrics. */
  metrics: Registry;
  /** The one notion of "the client" (forwarded headers only from trusted proxies). */
  clientAddressOf: ClientAddressOf;
  logger: Logger;
  /** The clock every module runs on, in epoch milliseconds. */
  now: () => number;
  /**
   * Hands the core something to stop at shutdown. Everything handed over, by every module and
   * the core itself, stops in reverse order: call it right after the thing started.
   */
  onStop(name: string, stop: () => Promise<void>): void;
}

/** What the core hands a module's serve(): the core's serving parts. */
export interface Serving {
  /** The HTTP server, listening (the satellite gateway takes its WebSocket upgrades). */
  server: Server;
}

/** What a module's start function returns (each module adds its public parts). */
export interface CoreModule {
  /** Its /api/v1 routes by mount path, e.g. `{ "/satellites": routes }`. */
  readonly routes: Readonly<Record<string, Hono>>;
  /** Body limits above the API's default for some of its mount paths, in bytes (a config bundle of 500 resources). */
  readonly bodyLimits?: Readonly<Record<string, number>>;
  /** Routes outside /api/v1 and the admin token, by mount path (`/hb`: heartbeat pings, authenticated by their own token). */
  readonly publicRoutes?: Readonly<Record<string, Hono>>;
  /**
   * Starts what acts on its own (workers, leader loops, sockets) once the core serves: HTTP
   * listens and the router follows the outbox. Its stops go through `onStop` too.
   */
  serve?(serving: Serving): Promise<void>;
}

/** The core's stops, run in reverse order of registration; a failing one is logged and the rest still run. */
export interface StopStack {
  add: ModuleDeps["onStop"];
  /** Runs every stop registered so far, last first. Call once. */
  stopAll(): Promise<void>;
}

export function createStopStack(logger: Logger): StopStack {
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  return {
    add: (name, stop) => void stops.push({ name, stop }),
    async stopAll() {
      for (let entry = stops.pop(); entry; entry = stops.pop()) {
        const { name, stop } = entry;
        logger.debug({ component: name }, "stopping");
        await stop().catch((error: unknown) => logger.error({ err: error, component: name }, "error while stopping"));
      }
    },
  };
}
