// Starts the automations module in a core: the one compiler over every registered trigger and
// entity kind, the index and the router's sink, the API; the worker that executes runs, the
// lease sweeper and the run pruner once the core serves. Start it after every module that
// registers triggers or kinds: the index's first load compiles against what is there.
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import { createChangeNotifier, notifyThroughPool } from "../entities/index.ts";
import { isVantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { NotificationsModule } from "../notifications/index.ts";
import { createAutomationRoutes } from "./api/automation-routes.ts";
import { createTriggerRoutes } from "./api/trigger-routes.ts";
import { createAutomationMetrics } from "./automation-metrics.ts";
import { type AutomationCompiler, createAutomationCompiler } from "./definitions/automation-compiler.ts";
import { AutomationStore } from "./definitions/automation-store.ts";
import { createAutomationWorker } from "./execution/automation-worker.ts";
import { createRunExecutor } from "./execution/run-executor.ts";
import { createLeaseSweeper } from "./execution/worker-leases.ts";
import { type AutomationIndex, createAutomationIndex } from "./routing/automation-index.ts";
import { createAutomationSink } from "./routing/automation-sink.ts";
import { createTimerFiring } from "./routing/trigger-timers.ts";
import { defineAutomationRunEntity } from "./runs/run-entity.ts";
import { createRunPruner } from "./runs/run-retention.ts";
import { createReplayJobs, type ReplayJobs } from "./replay/replay-jobs.ts";

/** What the module needs of others, and knobs tests and labs turn (production runs on the defaults). */
export interface AutomationsOptions {
  /** Notify steps send through its channels; a channel they name is kept from deletion. */
  notifications: Pick<NotificationsModule, "service" | "addChannelUsers">;
  /** Whether this instance executes runs (default true); false leaves them to the other instances. */
  executeRuns?: boolean;
  /** How often the worker looks for runs whose delay became due. */
  workerPollIntervalMs?: number;
  /** How long the worker's lease lasts without renewal (a dead core's runs resume after it). */
  workerLeaseTtlMs?: number;
  /** How often the worker renews its lease. */
  workerLeaseRenewIntervalMs?: number;
  /** How often the active lease sweeper unlocks the jobs of expired leases. */
  leaseSweepIntervalMs?: number;
  /** How often the active run retention pruner deletes old runs and skips (default hourly). */
  retentionIntervalMs?: number;
}

export interface AutomationsModule extends CoreModule {
  /** The instance's one compiler, shared by the index, the API and the executor. */
  compiler: AutomationCompiler;
  /** Enabled automations by trigger event id, as the router's sink reads them. */
  index: AutomationIndex;
  /** Replay jobs started on this instance. */
  replays: ReplayJobs;
  serve(): Promise<void>;
}

export async function startAutomations(deps: ModuleDeps, options: AutomationsOptions): Promise<AutomationsModule> {
  const { pool, box, hub, triggers, entities, logger, now } = deps;
  // Before the compiler: `entity("automation-run", id)` compiles against the kinds defined.
  defineAutomationRunEntity(entities, pool);
  const notifications = options.notifications.service;
  const store = new AutomationStore(pool, box);
  await sealPlaintextWebhookSecrets(store, logger);
  const compiler = createAutomationCompiler({ triggers, entities });
  // The first stage: an index of enabled automations by event id (kept current through
  // NOTIFY) and the router sink that records pending runs and skips.
  const index = createAutomationIndex({ store, hub, triggers, compiler, logger });
  await index.start();
  deps.onStop("automation index", index.stop);
  const metrics = createAutomationMetrics(deps.metrics);
  options.notifications.addChannelUsers((channel) => store.namesNotifying(channel));

  // The second stage: runs execute on the graphile-worker jobs the sink enqueued with them.
  // Their batched writes announce the run-status changes they record after committing (migration
  // 0035), one NOTIFY for all committed meanwhile, sent on a pool connection: on the hub's, a
  // NOTIFY waiting for PostgreSQL's notify lock (held by a notifying commit until its flush)
  // would hold up the notifications the hub delivers — the router's wakes among them.
  const runChanges = createChangeNotifier(notifyThroughPool(pool), logger);
  const executor = createRunExecutor({
    pool,
    box,
    compiler,
    entities,
    notifications,
    logger,
    now,
    announceChanges: () => runChanges.announce(),
    onEvent: metrics.onRunEvent,
  });
  const worker = createAutomationWorker({
    connectionString: deps.databaseUrl,
    pool,
    instanceId: deps.instanceId,
    executor,
    fireTimer: createTimerFiring({ pool, index, triggers, entities, logger, now, onDecision: metrics.onDecision }),
    logger,
    pollIntervalMs: options.workerPollIntervalMs,
    leaseTtlMs: options.workerLeaseTtlMs,
    leaseRenewIntervalMs: options.workerLeaseRenewIntervalMs,
  });
  // The router's sink hands the runs it records to this core's worker when it has free slots
  // (it takes none unless started: executeRuns).
  deps.router.addSink(createAutomationSink({ index, triggers, entities, logger, handoff: worker, onDecision: metrics.onDecision }));
  // One sweeper per cluster unlocks the jobs of workers whose lease expired (their process
  // died), so their runs resume here or elsewhere. Started before the worker, stopped after it.
  const sweeper = createLeaseSweeper({ pool, logger, intervalMs: options.leaseSweepIntervalMs, orphanGraceMs: options.workerLeaseTtlMs });
  // One pruner per cluster deletes ended runs and skips older than the retention.
  const pruner = createRunPruner({ pool, logger, retentionDays: deps.config.runRetentionDays, intervalMs: options.retentionIntervalMs });

  // Replays read the outbox and write only their own jobs; the core's stop fails those in flight.
  const replays = createReplayJobs({ pool, entities, triggers, logger, now });
  deps.onStop("automation replays", replays.stop);

  return {
    routes: {
      "/automations": createAutomationRoutes({ pool, box, notifications, compiler, triggers, replays, now }),
      "/triggers": createTriggerRoutes({ triggers }),
    },
    compiler,
    index,
    replays,
    async serve() {
      sweeper.start();
      deps.onStop("job lease sweeper", sweeper.stop);
      pruner.start();
      deps.onStop("run retention pruner", pruner.stop);
      if (options.executeRuns ?? true) {
        // Stopped before the core stops routing (stops run in reverse): runs in progress are
        // interrupted and left to resume on another core, so no job is in progress when the pool ends.
        deps.onStop("run change announcements", runChanges.flush);
        deps.onStop("automation worker", worker.stop);
        await worker.start();
      }
    },
  };
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
