// A core instance as the entity tests need it: its own pool (named, so a test can kill
// its connections), notification hub, entity registry and router with fast intervals.
import pg from "pg";
import { pino } from "pino";
import { createNotificationHub, type NotificationHub } from "../../src/cluster/notification-hub.ts";
import { createEntityRegistry, createEntityRouter, type EntityRegistry, type EntityRouter } from "../../src/entities/index.ts";
import type { EntityRouterOptions } from "../../src/entities/outbox/router.ts";
import { silentLogger } from "../../src/log.ts";
import { createPool } from "../../src/storage/index.ts";

export interface TestInstance {
  name: string;
  /** The database's connection string. */
  url: string;
  pool: pg.Pool;
  hub: NotificationHub;
  entities: EntityRegistry;
  router: EntityRouter;
  stop(): Promise<void>;
}

export async function startTestInstance(url: string, name: string, routerOptions: Partial<EntityRouterOptions> = {}): Promise<TestInstance> {
  const logger = process.env.TEST_LOG ? pino({ level: "warn" }).child({ instance: name }) : silentLogger();
  const pool = createPool(url, logger, { applicationName: name, max: 12 });
  const hub = createNotificationHub({ pool, logger, reconnectDelayMs: 50 });
  await hub.start();
  const entities = createEntityRegistry({ pool, logger, hub });
  const router = createEntityRouter({ pool, registry: entities, hub, logger, pollIntervalMs: 200, takeoverIntervalMs: 100, retryBaseMs: 10, ...routerOptions });
  let stopped: Promise<void> | undefined;
  return {
    name,
    url,
    pool,
    hub,
    entities,
    router,
    stop: () =>
      (stopped ??= (async () => {
        await router.stop();
        await entities.flush();
        await hub.stop();
        await pool.end();
      })()),
  };
}

/** Closes every server connection of an instance, as if its process had died. */
export async function killConnections(url: string, applicationName: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", [applicationName]);
  } finally {
    await client.end();
  }
}

/** Resolves when `predicate` holds, re-checking whenever `subscribe` signals; rejects after timeoutMs. */
export function waitFor(predicate: () => boolean, subscribe: (wake: () => void) => () => void, timeoutMs = 10_000, what = "condition"): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

/** A tiny signal: tests await it instead of sleeping. */
export function createSignal() {
  const listeners = new Set<() => void>();
  return {
    emit: () => listeners.forEach((listener) => listener()),
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/** What NOTIFY delivered on one channel to an instance, parsed as JSON, and a way to await a match. */
export interface CollectedNotifications<Payload> {
  received: Payload[];
  /** Resolves once a received payload satisfies `predicate`; rejects after timeoutMs. */
  waitFor(predicate: (payload: Payload) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function collectNotifications<Payload>(hub: NotificationHub, channel: string): Promise<CollectedNotifications<Payload>> {
  const received: Payload[] = [];
  const arrived = createSignal();
  const stop = await hub.subscribe(channel, (payload) => {
    received.push(JSON.parse(payload) as Payload);
    arrived.emit();
  });
  return {
    received,
    waitFor: (predicate, what, timeoutMs = 5_000) => waitFor(() => received.some(predicate), arrived.subscribe, timeoutMs, what),
    stop,
  };
}
