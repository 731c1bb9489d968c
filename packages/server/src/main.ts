// Wires one core process: database (embedded or external), migrations, the shared parts
// every module runs on, the modules in their order (satellites, notifications, automations),
// HTTP with the admin API, and the ordered shutdown that releases everything in reverse. The
// only place that builds pools and servers; what a module holds is the module's own business.
import { randomUUID } from "node:crypto";
import { createUserRequestSchema, validateInput } from "@vantage/protocol";
import {
  createAdminTokenVerifier,
  createAuthModule,
  createClientAddressOf,
  createIsHttpsOf,
  createUserStore,
  ensureAdminToken,
  generatePassword,
  hashPassword,
} from "./auth/index.ts";
import { createTriggerRegistry, EXECUTOR_POOL_CONNECTIONS, startAutomations, type AutomationIndex, type TriggerRegistry } from "./automations/index.ts";
import { type CheckResults, startChecks } from "./checks/index.ts";
import { createNotificationHub } from "./cluster/index.ts";
import type { ServerConfig } from "./config.ts";
import { createCoreApp } from "./core-app.ts";
import { createStopStack, type ModuleDeps } from "./core-module.ts";
import { invalidInput } from "./errors.ts";
import { openSecretBox } from "./crypto/index.ts";
import {
  createEntityRegistry,
  createEntityRouter,
  createLiveFeed,
  type EntityRegistry,
  type EntityRouter,
  type LiveFeed,
  type RouterObserver,
} from "./entities/index.ts";
import { startConfig } from "./config/index.ts";
import { type EventsOptions, startEvents } from "./events/index.ts";
import { createMetrics, type Readiness, startHttpServer } from "./http/index.ts";
import type { Logger } from "./log.ts";
import { type NotificationService, startNotifications } from "./notifications/index.ts";
import { type HeartbeatMonitor, type SatelliteGateway, type SatelliteRegistry, type SatelliteService, startSatellites } from "./satellites/index.ts";
import { type Database, loadMigrations, migrate, openDatabase, schemaStatus } from "./storage/index.ts";

export interface Core {
  instanceId: string;
  /** Where the HTTP server listens, e.g. http://127.0.0.1:8080. */
  url: string;
  database: Database;
  entities: EntityRegistry;
  router: EntityRouter;
  liveFeed: LiveFeed;
  satellites: SatelliteService;
  registry: SatelliteRegistry;
  gateway: SatelliteGateway;
  monitor: HeartbeatMonitor;
  notifications: NotificationService;
  /** Every trigger modules registered, with its payload schema (the router index reads it). */
  triggers: TriggerRegistry;
  /** Enabled automations by trigger event id, as the router's automation sink reads them. */
  automations: AutomationIndex;
  /** Check results: the ingest batcher, the rollup worker and the partition maintainer. */
  checkResults: CheckResults;
  /** Stops accepting, drains, closes the pool and any embedded PostgreSQL. Idempotent. */
  stop(): Promise<void>;
}

/** Knobs tests and labs turn; production runs on the defaults. */
export interface CoreOptions {
  /** The clock every module runs on, in epoch milliseconds. */
  now?: () => number;
  /** Time a new satellite socket has to say hello. */
  helloTimeoutMs?: number;
  /** Time between heartbeat monitor sweeps (at most 2 s). */
  monitorIntervalMs?: number;
  /** Observes the entity router: tests await "this change was routed and committed". */
  routerObserver?: RouterObserver;
  /** How often the automation worker looks for runs whose delay became due. */
  workerPollIntervalMs?: number;
  /** How long the automation worker's lease lasts without renewal (a dead core's runs resume after it). */
  workerLeaseTtlMs?: number;
  /** How often the automation worker renews its lease. */
  workerLeaseRenewIntervalMs?: number;
  /** How often the active lease sweeper unlocks the jobs of expired leases. */
  leaseSweepIntervalMs?: number;
  /** How often the active run retention pruner deletes old runs and skips (default hourly). */
  retentionIntervalMs?: number;
  /** Whether this instance executes automation runs (default true); false leaves them to the other instances. */
  automationWorker?: boolean;
  /** Knobs of the live event stream (e.g. the flush tick, for the sse-fanout bench). */
  events?: EventsOptions;
  /** The built UI's folder (default: packages/web/dist; bench/ui-checks-list serves a baseline build beside it). */
  webRoot?: string;
}

export async function startCore(config: ServerConfig, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  const instanceId = randomUUID();
  const log = logger.child({ instanceId });
  // Everything started registers its stop here, right after it started; shutdown (or a start
  // that fails half-way) runs them in reverse, so what started last stops first.
  const stops = createStopStack(log);

  try {
    // The pool's budget: about 7 connections held for good (the leader loops and the
    // notification hub), the automation executor's (its runs share a few), the rest for queries.
    const database = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      logger: log,
      pool: { max: CORE_POOL_BASE_SIZE + EXECUTOR_POOL_CONNECTIONS },
    });
    stops.add("database", database.close);

    const migrations = await loadMigrations();
    const { applied, version } = await migrate(database.pool, { logger: log, migrations });
    log.info({ version, applied: applied.length }, "database schema is up to date");

    const hub = createNotificationHub({ pool: database.pool, logger: log });
    await hub.start();
    stops.add("notifications", hub.stop);
    const entities = createEntityRegistry({ pool: database.pool, logger: log, hub });
    stops.add("change announcements", entities.flush);
    const now = options.now ?? Date.now;
    const box = await openSecretBox({ configuredKey: config.secretKey, dataDir: config.dataDir, databaseUrl: config.databaseUrl, logger: log });
    const metrics = createMetrics();
    const liveFeed = createLiveFeed({ pool: database.pool, hub, logger: log });
    await liveFeed.start();
    stops.add("live feed", liveFeed.stop);
    const router = createEntityRouter({ pool: database.pool, registry: entities, hub, logger: log, observer: options.routerObserver });
    const deps: ModuleDeps = {
      instanceId,
      config,
      pool: database.pool,
      databaseUrl: database.url,
      hub,
      entities,
      triggers: createTriggerRegistry(),
      router,
      box,
      metrics: metrics.registry,
      // One notion of "the client" for the API's limiter and the gateway's: forwarded headers only from trusted proxies.
      clientAddressOf: createClientAddressOf(config.trustedProxies),
      logger: log,
      now,
      onStop: stops.add,
    };

    // Modules in order: those that define entity kinds and triggers before the automations,
    // whose index compiles every stored definition against them when it starts.
    const satellites = await startSatellites(deps, { helloTimeoutMs: options.helloTimeoutMs, monitorIntervalMs: options.monitorIntervalMs });
    const notifications = await startNotifications(deps);
    const checks = await startChecks(deps, { satellites });
    const automations = await startAutomations(deps, {
      notifications,
      executeRuns: options.automationWorker,
      workerPollIntervalMs: options.workerPollIntervalMs,
      workerLeaseTtlMs: options.workerLeaseTtlMs,
      workerLeaseRenewIntervalMs: options.workerLeaseRenewIntervalMs,
      leaseSweepIntervalMs: options.leaseSweepIntervalMs,
      retentionIntervalMs: options.retentionIntervalMs,
    });
    const events = await startEvents(deps, options.events);
    const auth = createAuthModule({ pool: database.pool, now, clientAddressOf: deps.clientAddressOf, isHttpsOf: createIsHttpsOf(config.trustedProxies) });
    const configAsCode = startConfig(deps, { satellites, notifications, checks, automations });

    const readiness = async (): Promise<Readiness> => {
      try {
        const status = await schemaStatus(database.pool, migrations);
        const detail = `schema at ${status.databaseVersion}, code expects ${status.codeVersion}`;
        return { ready: status.upToDate, checks: { database: { ok: true }, migrations: { ok: status.upToDate, detail } } };
      } catch (error) {
        return { ready: false, checks: { database: { ok: false, detail: (error as Error).message } } };
      }
    };
    const app = createCoreApp({
      logger: log,
      metrics,
      readiness,
      instanceId,
      verifyAdmin: createAdminTokenVerifier({ pool: database.pool, now, knownToken: config.adminToken }),
      accounts: auth.accounts,
      clientAddressOf: deps.clientAddressOf,
      modules: [auth, satellites, notifications, checks, automations, events, configAsCode],
      webRoot: options.webRoot,
    });
    const http = await startHttpServer(app, { host: config.host, port: config.port });
    stops.add("http", http.close);
    // Open event streams would hold HTTP's close: they end first.
    await events.serve();
    // Sinks (the automation engine's) are added by the modules above, before the router follows the outbox.
    router.start();
    stops.add("entity router", router.stop);

    // What acts on its own starts once the core serves, and stops first. The order is the
    // shutdown's, reversed: the satellites are handed over first (their gateway starts last),
    // then the automation worker interrupts its runs, which resume on another core.
    await automations.serve();
    // The core location claims runs from here on; at shutdown it stops right after the
    // satellites are handed over, dropping its runs in flight before the results flush.
    await checks.serve();
    await satellites.serve({ server: http.server });
    // Generated (and shown) only once everything serves: a start that fails earlier, e.g. on
    // a port in use, leaves it to the next start instead of printing a token and dying.
    await ensureAdminToken({ pool: database.pool, logger: log, configuredToken: config.adminToken });
    log.info({ url: http.url }, `Vantage is listening: open ${http.url}`);

    let stopping: Promise<void> | undefined;
    return {
      instanceId,
      url: http.url,
      database,
      entities,
      router,
      liveFeed,
      satellites: satellites.service,
      registry: satellites.registry,
      gateway: satellites.gateway,
      monitor: satellites.monitor,
      notifications: notifications.service,
      triggers: deps.triggers,
      automations: automations.index,
      checkResults: checks.results,
      stop: () => (stopping ??= stops.stopAll()),
    };
  } catch (error) {
    await stops.stopAll();
    throw error;
  }
}

/** Connections of the core's pool besides the automation executor's. */
const CORE_POOL_BASE_SIZE = 14;

/** How long a graceful shutdown may take before the process exits regardless. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * Signals that stop the core gracefully: a supervisor's SIGTERM, Ctrl-C (SIGINT to the
 * terminal's whole process group: the embedded PostgreSQL runs in a session of its own and
 * never sees it), and SIGHUP when the terminal goes away.
 */
const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * `vantage server`: runs until a shutdown signal, then shuts down within the deadline. The
 * handlers are installed before the start, so a signal during it stops the core once started.
 */
export async function runServer(config: ServerConfig, logger: Logger): Promise<void> {
  let signalled: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let first: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) return logger.warn({ signal }, `already shutting down; exiting within ${SHUTDOWN_DEADLINE_MS} ms of the first signal`);
    first = signal;
    const deadline = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    signalled(signal);
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  try {
    const core = await startCore(config, logger);
    logger.info({ signal: await received }, "shutting down");
    await core.stop();
    logger.info("stopped");
  } finally {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  }
}

/** `vantage migrate`: applies pending migrations and exits. */
export async function runMigrate(config: ServerConfig, logger: Logger): Promise<void> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    const { applied, version } = await migrate(database.pool, { logger });
    logger.info({ version, applied: applied.map((m) => `${m.version}-${m.name}`) }, applied.length ? "migrated" : "nothing to migrate");
  } finally {
    await database.close();
  }
}

export interface UserCreateInput {
  email: string;
  role: string;
  /** The password read from stdin, or undefined to generate one. */
  password?: string | undefined;
}

/**
 * `vantage user create`: migrates, creates the user and prints its password when generated
 * (the only time it is shown). With the embedded database the server must not be running;
 * otherwise use the API with VANTAGE_ADMIN_TOKEN.
 */
export async function runUserCreate(config: ServerConfig, logger: Logger, input: UserCreateInput, print: (line: string) => void): Promise<void> {
  const parsed = validateInput(createUserRequestSchema, input, { root: "the options" });
  if (!parsed.ok) throw invalidInput(parsed.issues);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    await migrate(database.pool, { logger });
    const password = parsed.value.password ?? generatePassword();
    const user = await createUserStore(database.pool, Date.now).create({
      email: parsed.value.email,
      role: parsed.value.role,
      passwordHash: await hashPassword(password),
    });
    print(`Created ${user.role} user ${user.email} (id ${user.id}).`);
    if (parsed.value.password === undefined) print(`Password: ${password}\nSave it now: it is shown only this once (only its hash is stored).`);
  } finally {
    await database.close();
  }
}
