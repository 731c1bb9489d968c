// Wires one core process: database (embedded or external), migrations, HTTP with the admin
// API, the satellite gateway with its heartbeat buffer and monitor, and the ordered shutdown
// that releases everything in reverse. The only place that builds pools and servers.
import { randomUUID } from "node:crypto";
import { checkDefinitionSchema, HEARTBEAT_INTERVAL_MS } from "@vantage/protocol";
import { createAdminTokenVerifier, createClientAddressOf, ensureAdminToken } from "./auth/index.ts";
import {
  type AutomationIndex,
  AutomationStore,
  createAutomationIndex,
  createAutomationMetrics,
  createAutomationRoutes,
  createAutomationSink,
  createAutomationWorker,
  createLeaseSweeper,
  createRunPruner,
  createRunExecutor,
  createTimerFiring,
  DEFAULT_WORKER_CONCURRENCY,
  createTriggerRegistry,
  createTriggerRoutes,
  type TriggerRegistry,
} from "./automations/index.ts";
import { createSatelliteAssignments } from "./checks/index.ts";
import { createNotificationHub } from "./cluster/index.ts";
import type { Config } from "./config.ts";
import { openSecretBox } from "./crypto/index.ts";
import { isVantageError } from "./errors.ts";
import {
  createEntityRegistry,
  createEntityRouter,
  createLiveFeed,
  type EntityRegistry,
  type EntityRouter,
  type LiveFeed,
  type RouterObserver,
} from "./entities/index.ts";
import { createApp, createMetrics, type Readiness, startHttpServer } from "./http/index.ts";
import type { Logger } from "./log.ts";
import { createNotificationChannelRoutes, createNotificationSenders, NotificationService } from "./notifications/index.ts";
import {
  createHeartbeatBuffer,
  createHeartbeatMonitor,
  createSatelliteGateway,
  createSatelliteRoutes,
  type HeartbeatMonitor,
  type SatelliteGateway,
  SATELLITE_CONNECTION_ENTITY_KIND,
  satelliteConnectionStateSchema,
  SatelliteRegistry,
  SatelliteService,
  satelliteTriggers,
} from "./satellites/index.ts";
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
  /** Stops accepting, drains, closes the pool and any embedded PostgreSQL. Idempotent. */
  stop(): Promise<void>;
}

type ServerConfig = Pick<Config, "host" | "port" | "databaseUrl" | "dataDir"> & Partial<Pick<Config, "adminToken" | "heartbeatIntervalMs" | "secretKey" | "runRetentionDays" | "trustedProxies">>;

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
}

export async function startCore(config: ServerConfig, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  const instanceId = randomUUID();
  const log = logger.child({ instanceId });
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const stopAll = async () => {
    for (const { name, close } of closers.reverse()) {
      await close().catch((error: unknown) => log.error({ err: error, component: name }, "error while stopping"));
    }
  };

  try {
    // The pool's budget: about 5 connections held for good (the leader loops and the
    // notification hub), one per run in execution (its run lock), the rest for queries.
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger: log, pool: { max: CORE_POOL_BASE_SIZE + DEFAULT_WORKER_CONCURRENCY } });
    closers.push({ name: "database", close: database.close });

    const migrations = await loadMigrations();
    const { applied, version } = await migrate(database.pool, { logger: log, migrations });
    log.info({ version, applied: applied.length }, "database schema is up to date");

    const hub = createNotificationHub({ pool: database.pool, logger: log });
    await hub.start();
    closers.push({ name: "notifications", close: hub.stop });
    const entities = createEntityRegistry({ pool: database.pool, logger: log });
    closers.push({ name: "change announcements", close: entities.flush });
    const now = options.now ?? Date.now;
    const heartbeatIntervalMs = config.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    const satellites = new SatelliteService({ pool: database.pool, entities, now, logger: log });
    const registry = new SatelliteRegistry({ pool: database.pool, satellites, now });
    const box = await openSecretBox({ configuredKey: config.secretKey, dataDir: config.dataDir, databaseUrl: config.databaseUrl, logger: log });
    const notifications = new NotificationService({ pool: database.pool, box, senders: createNotificationSenders({ now }) });
    const triggers = createTriggerRegistry(satelliteTriggers);
    const entityKinds = { [SATELLITE_CONNECTION_ENTITY_KIND]: satelliteConnectionStateSchema };
    const liveFeed = createLiveFeed({ pool: database.pool, hub, logger: log });
    await liveFeed.start();
    closers.push({ name: "live feed", close: liveFeed.stop });
    const router = createEntityRouter({ pool: database.pool, registry: entities, hub, logger: log, observer: options.routerObserver });
    // The automation engine's first stage: an index of enabled automations by event id (kept
    // current through NOTIFY) and the router sink that records pending runs and skips.
    const automationStore = new AutomationStore(database.pool, box);
    await sealPlaintextWebhookSecrets(automationStore, log);
    const automations = createAutomationIndex({ store: automationStore, hub, triggers, entityKinds, logger: log });
    await automations.start();
    closers.push({ name: "automation index", close: automations.stop });
    const metrics = createMetrics();
    const automationMetrics = createAutomationMetrics(metrics.registry);
    router.addSink(createAutomationSink({ index: automations, triggers, entities, logger: log, onDecision: automationMetrics.onDecision }));

    const readiness = async (): Promise<Readiness> => {
      try {
        const status = await schemaStatus(database.pool, migrations);
        const detail = `schema at ${status.databaseVersion}, code expects ${status.codeVersion}`;
        return { ready: status.upToDate, checks: { database: { ok: true }, migrations: { ok: status.upToDate, detail } } };
      } catch (error) {
        return { ready: false, checks: { database: { ok: false, detail: (error as Error).message } } };
      }
    };
    // One notion of "the client" for both limiters: forwarded headers only from trusted proxies.
    const clientAddressOf = createClientAddressOf(config.trustedProxies);
    const app = createApp({
      logger: log,
      metrics,
      readiness,
      instanceId,
      api: {
        verifyAdmin: createAdminTokenVerifier({ pool: database.pool, now, knownToken: config.adminToken }),
        clientAddressOf,
        routes: {
          "/satellites": createSatelliteRoutes({ registry, heartbeatIntervalMs }),
          "/notification-channels": createNotificationChannelRoutes({ service: notifications }, (channel) => automationStore.namesNotifying(channel)),
          "/automations": createAutomationRoutes({ pool: database.pool, box, notifications, triggers, entityKinds }),
          "/triggers": createTriggerRoutes({ triggers }),
        },
      },
    });
    const http = await startHttpServer(app, { host: config.host, port: config.port });
    closers.push({ name: "http", close: http.close });
    // Sinks (the automation engine, above) register before the router starts following the outbox.
    router.start();
    closers.push({ name: "entity router", close: router.stop });

    // The automation engine's second stage: runs execute on graphile-worker jobs that the
    // sink enqueued with them. Stopped right after the satellites are handed over (closers
    // run in reverse): runs in progress are interrupted and left to resume on another core,
    // so no job is in progress when the pool ends.
    const executor = createRunExecutor({
      pool: database.pool,
      box,
      triggers,
      entityKinds,
      entities,
      notifications,
      logger: log,
      now,
      onEvent: automationMetrics.onRunEvent,
    });
    const worker = createAutomationWorker({
      connectionString: database.url,
      pool: database.pool,
      instanceId,
      executor,
      fireTimer: createTimerFiring({ pool: database.pool, index: automations, triggers, entities, logger: log, now, onDecision: automationMetrics.onDecision }),
      logger: log,
      pollIntervalMs: options.workerPollIntervalMs,
      leaseTtlMs: options.workerLeaseTtlMs,
      leaseRenewIntervalMs: options.workerLeaseRenewIntervalMs,
    });
    // One sweeper per cluster unlocks the jobs of workers whose lease expired (their process
    // died), so their runs resume here or elsewhere. Started before the worker, stopped after it.
    const sweeper = createLeaseSweeper({ pool: database.pool, logger: log, intervalMs: options.leaseSweepIntervalMs, orphanGraceMs: options.workerLeaseTtlMs });
    sweeper.start();
    closers.push({ name: "job lease sweeper", close: sweeper.stop });
    // One pruner per cluster deletes ended runs and skips older than the retention.
    const pruner = createRunPruner({ pool: database.pool, logger: log, retentionDays: config.runRetentionDays, intervalMs: options.retentionIntervalMs });
    pruner.start();
    closers.push({ name: "run retention pruner", close: pruner.stop });
    if (options.automationWorker ?? true) {
      closers.push({ name: "automation worker", close: worker.stop });
      await worker.start();
    }
    const monitor = createHeartbeatMonitor({ pool: database.pool, satellites, logger: log, registry: metrics.registry, intervalMs: options.monitorIntervalMs });
    monitor.start();
    closers.push({ name: "heartbeat monitor", close: monitor.stop });
    const heartbeats = createHeartbeatBuffer({ pool: database.pool, satellites, logger: log, now, registry: metrics.registry });
    heartbeats.start();
    // ── Checks on satellites (issue #11): each satellite's set, in welcome and pushed on every
    // change of a check or of its region and tags. Stopped after the gateway (closers run in reverse).
    const assignments = createSatelliteAssignments({
      pool: database.pool,
      hub,
      logger: log,
      registry: metrics.registry,
      profiles: (ids) => registry.profiles(ids),
      // Integration: the definitions store's openDefinition (credential headers opened) goes
      // here; until then a check whose headers are sealed is logged and assigned to nobody.
      openDefinition: (row) => checkDefinitionSchema.parse(row.definition),
    });
    await assignments.start();
    closers.push({ name: "satellite assignments", close: assignments.stop });
    // Integration: results reach the batched ingest through
    // `resultSink: createSatelliteResultSink(ingest.submit)` below, once the results module is started here.
    // ── end checks on satellites
    const gateway = createSatelliteGateway({
      satellites,
      heartbeats,
      authenticate: (satelliteId, token, verify) => registry.verifyCredentials(satelliteId, token, verify),
      clientAddressOf,
      hub,
      logger: log,
      instanceId,
      registry: metrics.registry,
      now,
      heartbeatIntervalMs,
      helloTimeoutMs: options.helloTimeoutMs,
      assignmentsFor: assignments.assignmentsFor,
      sessionObserver: assignments.sessionObserver,
    });
    await gateway.start(http.server);
    // The first closer to run (closers run in reverse): every socket is handed over — its
    // heartbeats written, then told `shutdown {server_shutdown}`, its satellite left
    // `connected` to reconnect to any core (no disconnect is recorded) — then the buffer stops.
    closers.push({
      name: "satellite gateway",
      close: async () => {
        await gateway.stop();
        await heartbeats.stop();
      },
    });
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
      satellites,
      registry,
      gateway,
      monitor,
      notifications,
      triggers,
      automations,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Seals webhook secrets stored before they were sealed; without a key it warns and tries again at the next start. */
async function sealPlaintextWebhookSecrets(store: AutomationStore, log: Logger): Promise<void> {
  try {
    const sealed = await store.sealPlaintextSecrets();
    if (sealed > 0) log.info({ sealed }, "sealed the webhook secrets of automations stored in plain text");
  } catch (error) {
    if (!isVantageError(error)) throw error;
    log.warn({ err: error }, "cannot seal the webhook secrets of automations stored in plain text yet; will try again at the next start");
  }
}

/** Connections of the core's pool besides one per automation run executed at once. */
const CORE_POOL_BASE_SIZE = 12;

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
