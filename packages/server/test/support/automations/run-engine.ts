// The run engine as the executor tests drive it: per test a database, the routing fixture, a
// local HTTP receiver and workers whose executor reports every stored outcome (with when it
// was stored) and every execution, all stopped after the test.
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, expect } from "vitest";
import { type AutomationWorker, createAutomationWorker } from "../../../src/automations/execution/automation-worker.ts";
import { createRunExecutor, type RunEvent, type RunExecutor } from "../../../src/automations/execution/run-executor.ts";
import { createTimerFiring } from "../../../src/automations/routing/trigger-timers.ts";
import type { AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import { listRuns, type RunView } from "../../../src/automations/runs/automation-runs.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createNotificationSenders, NotificationService } from "../../../src/notifications/index.ts";
import { type HttpReceiver, startHttpReceiver } from "../network/receivers.ts";
import { createTestDatabase, type TestDatabase } from "../database.ts";
import { createSignal, type TestInstance } from "../instance.ts";
import { type AutomationRouting, startAutomationRouting } from "./automation-routing.ts";
import { satelliteCompiler } from "./satellite-compiler.ts";

const options = satelliteCompiler();

/** A stored outcome, and when (Date.now()) the executor reported it. */
export type TimedEvent = RunEvent & { at: number };

export interface RunEngine {
  db: TestDatabase;
  routing: AutomationRouting;
  core: TestInstance;
  receiver: HttpReceiver;
  notifications: NotificationService;
  events: TimedEvent[];
  /** Emits after every stored outcome and every execution's start and end. */
  stored: ReturnType<typeof createSignal>;
  /** execute() calls of every worker so far: begun, and returned or thrown. */
  executions: { started: number; finished: number };
  workers: AutomationWorker[];
  /** A worker and executor as a fresh process would build them; retries do not pause. */
  startWorker(options?: { pollIntervalMs?: number }): Promise<AutomationWorker>;
  saveAutomation(actions: unknown[]): Promise<AutomationView>;
  loseHeartbeat(): Promise<string>;
  /** A run ended (with that status). */
  ended(status?: string): boolean;
  /** The step at `path` reached `status`. */
  reached(path: string, status: string): TimedEvent | undefined;
  onlyRun(automation: AutomationView): Promise<RunView>;
}

/** Registers the hooks that build the engine before each test (with one worker unless `worker: false`) and stop it after. */
export function useRunEngine(name: string, setup: { worker?: boolean } = {}): RunEngine {
  const engine = { stored: createSignal() } as RunEngine;

  beforeEach(async () => {
    engine.events = [];
    engine.workers = [];
    engine.executions = { started: 0, finished: 0 };
    engine.db = await createTestDatabase();
    engine.routing = await startAutomationRouting(engine.db.url, name);
    engine.core = engine.routing.core;
    engine.receiver = await startHttpReceiver();
    engine.notifications = new NotificationService({
      pool: engine.core.pool,
      box: createSecretBox(randomBytes(32)),
      senders: createNotificationSenders({ timeoutMs: 2_000 }),
    });
    if (setup.worker !== false) await engine.startWorker();
  });

  afterEach(async () => {
    for (const worker of engine.workers ?? []) await worker.stop();
    await engine.receiver?.close();
    await engine.routing?.stop();
  });

  engine.startWorker = async (worker = {}) => {
    const executor = createRunExecutor({
      pool: engine.core.pool,
      ...options,
      entities: engine.core.entities,
      notifications: engine.notifications,
      box: engine.routing.box,
      logger: silentLogger(),
      retryDelayMs: () => 0,
      onEvent: (event) => {
        engine.events.push({ ...event, at: Date.now() });
        engine.stored.emit();
      },
    });
    const count = async (execution: () => Promise<void>) => {
      engine.executions.started++;
      engine.stored.emit();
      try {
        await execution();
      } finally {
        engine.executions.finished++;
        engine.stored.emit();
      }
    };
    const counted: RunExecutor = {
      execute: (runId) => count(() => executor.execute(runId)),
      executeHanded: (handed) => count(() => executor.executeHanded(handed)),
    };
    const started = createAutomationWorker({
      connectionString: engine.db.url,
      pool: engine.core.pool,
      instanceId: name,
      executor: counted,
      fireTimer: createTimerFiring({
        pool: engine.core.pool,
        index: engine.routing.index,
        triggers: options.triggers,
        entities: engine.core.entities,
        logger: silentLogger(),
      }),
      logger: silentLogger(),
      concurrency: 2,
      pollIntervalMs: worker.pollIntervalMs ?? 50,
    });
    await started.start();
    engine.workers.push(started);
    return started;
  };
  engine.saveAutomation = (actions) => engine.routing.saveAutomation(actions);
  engine.loseHeartbeat = () => engine.routing.loseHeartbeat();
  engine.ended = (status) => engine.events.some((event) => event.type === "run" && (status === undefined || event.status === status));
  engine.reached = (path, status) => engine.events.find((event) => event.type === "step" && event.path === path && event.status === status);
  engine.onlyRun = async (automation) => {
    const runs = await listRuns(engine.core.pool, automation.id);
    expect(runs).toHaveLength(1);
    return runs[0]!;
  };
  return engine;
}

/** A header's (first) value. */
export const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
