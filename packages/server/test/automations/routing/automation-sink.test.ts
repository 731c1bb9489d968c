// The router's automation sink: one run per change and automation (never two on redelivery), skips that say why, the index kept current.
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AutomationIndex } from "../../../src/automations/index.ts";
import { AutomationStore, type AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import { createAutomationIndex } from "../../../src/automations/routing/automation-index.ts";
import { createAutomationSink, type SinkDecision } from "../../../src/automations/routing/automation-sink.ts";
import { createTimerFiring } from "../../../src/automations/routing/trigger-timers.ts";
import { cancelRun } from "../../../src/automations/runs/run-admission.ts";
import { listRuns, listSkips } from "../../../src/automations/runs/automation-runs.ts";
import { registerWaits } from "../../../src/automations/runs/run-waits.ts";
import { AutomationTask } from "../../../src/automations/runs/automation-jobs.ts";
import type { ChangeSink, RoutedChange } from "../../../src/entities/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { SatelliteRegistry, SatelliteService } from "../../../src/satellites/index.ts";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import { withTransaction } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";
import { killNotificationConnection } from "../../support/notification-connection.ts";
import { statementsSent, textOf } from "../../support/query-text.ts";

const LOST = "satellite.heartbeat_lost";
const CONNECTED = "satellite.connected";

let core: TestInstance;
let service: SatelliteService;
let store: AutomationStore;
let index: AutomationIndex;
let sink: ChangeSink;
let clock: number;
/** Batches the router committed, in order (observed after COMMIT). */
let routed: RoutedChange[];
let decisions: SinkDecision[];
const recorded = (decision: SinkDecision) => ("recorded" in decision ? decision.recorded : undefined);
/** Event ids the sink looked up in the index, in order. */
let lookups: string[];
/** How often the index read the store. */
let storeReads: number;
const batches = createSignal();
const reloaded = createSignal();
const options = satelliteCompiler();

beforeEach(async () => {
  routed = [];
  decisions = [];
  lookups = [];
  storeReads = 0;
  clock = Date.parse("2026-11-27T12:00:00.000Z");
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "automation-sink", {
    observer: {
      onBatch: (batch) => {
        routed.push(...batch);
        batches.emit();
      },
    },
  });
  service = new SatelliteService({ pool: core.pool, entities: core.entities, now: () => clock });
  store = new AutomationStore(core.pool, createSecretBox(randomBytes(32)));
  const countingStore = {
    listEnabledFor: (events: readonly string[]) => {
      storeReads += 1;
      return store.listEnabledFor(events);
    },
  };
  index = createAutomationIndex({ store: countingStore, hub: core.hub, logger: silentLogger(), ...options, onReload: () => reloaded.emit() });
  await index.start();
  const spiedIndex = {
    lookup: (eventId: string) => {
      lookups.push(eventId);
      return index.lookup(eventId);
    },
  };
  sink = createAutomationSink({
    index: spiedIndex,
    triggers: options.triggers,
    entities: core.entities,
    logger: silentLogger(),
    onDecision: (decision) => decisions.push(decision),
  });
  core.router.addSink(sink);
  core.router.start();
});

afterEach(async () => {
  await index?.stop();
  await core?.stop();
});

let named = 0;

/** Saves an automation through the store, as the API does, and waits until the index has it (or, disabled, has reloaded). */
async function saveAutomation(overrides: Record<string, unknown> = {}): Promise<AutomationView> {
  named += 1;
  const result = options.compiler.compile({
    name: `automation-${named}`,
    triggers: [{ event: LOST }],
    actions: [{ log: { message: "{{ trigger.payload.name }} is gone" } }],
    ...overrides,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const view = await store.create(result.compiled);
  await indexed(view, view.enabled);
  return view;
}

const inIndex = (view: AutomationView) =>
  view.triggers.some((trigger) => index.lookup(trigger.event).some((match) => match.automation.id === view.id && match.automation.version === view.version));

/** Whether the index holds the automation in any version. */
const anyVersionInIndex = (view: AutomationView) =>
  view.triggers.some((trigger) => index.lookup(trigger.event).some((match) => match.automation.id === view.id));

/** Waits, through the index's reloads (never a sleep), until it holds the automation or not. */
async function indexed(view: AutomationView, present: boolean): Promise<void> {
  if (present) {
    await waitFor(() => inIndex(view), reloaded.subscribe, 5_000, `${view.name} in the index`);
    return;
  }
  // Gone in every version: an automation indexed before the write stays until a reload that
  // saw the write, however early that reload ended (even before this call subscribed).
  await waitFor(() => !anyVersionInIndex(view), reloaded.subscribe, 5_000, `a reload without ${view.name}`);
}

const routedEvents = (satelliteId: string, eventId: string) => routed.filter((r) => r.change.id === satelliteId && r.eventIds.includes(eventId));

/** Resolves once the router committed one more `eventId` change of the satellite than before `act`. */
async function routedAfter(satelliteId: string, eventId: string, act: () => Promise<unknown>): Promise<RoutedChange> {
  const before = routedEvents(satelliteId, eventId).length;
  await act();
  await waitFor(() => routedEvents(satelliteId, eventId).length > before, batches.subscribe, 10_000, `${eventId} of ${satelliteId} routed`);
  return routedEvents(satelliteId, eventId).at(-1)!;
}

/** A satellite (new, or the one named) connects and then misses its heartbeats; resolves once the router committed the heartbeat_lost change. */
async function loseHeartbeat(existing?: string): Promise<{ satelliteId: string; sessionId: string; lost: RoutedChange }> {
  const satelliteId = existing ?? (await service.create({ name: `edge-${randomUUID().slice(0, 8)}`, region: "eu-west", tokenHash: "unused" }));
  const sessionId = randomUUID();
  await service.markConnected({ satelliteId, sessionId });
  const lost = await routedAfter(satelliteId, LOST, async () => {
    clock += 60_000; // past the default 45 s threshold
    await service.markHeartbeatLost({ satelliteId });
  });
  return { satelliteId, sessionId, lost };
}

/** The satellite connects again; resolves once the router committed it. */
const reconnect = (satelliteId: string) => routedAfter(satelliteId, CONNECTED, () => service.markConnected({ satelliteId, sessionId: randomUUID() }));

describe("the automation sink of the entity router", () => {
  it("gives an enabled automation on satellite.heartbeat_lost exactly one pending run, with the trigger payload stored", async () => {
    const automation = await saveAutomation();
    const { satelliteId, lost } = await loseHeartbeat();
    await service.markHeartbeatLost({ satelliteId }); // a second monitor pass changes nothing

    const runs = await listRuns(core.pool, automation.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      automationVersion: 1,
      triggerId: "trigger-0",
      triggerEvent: LOST,
      changeId: lost.change.changeId,
      status: "pending",
      contextKey: null,
      trigger: {
        event: LOST,
        triggerId: "trigger-0",
        payload: { satelliteId, region: "eu-west", status: "offline", lastSeenAt: "2026-11-27T12:00:00.000Z" },
        forMs: null,
        change: { changeId: lost.change.changeId, seq: lost.change.seq, kind: "satellite-connection", id: satelliteId },
      },
    });
    expect(await listSkips(core.pool, automation.id)).toEqual([]);
    // Its job was enqueued in the same transaction, keyed by the run id.
    const { rows: jobs } = await core.pool.query("SELECT task_identifier, key FROM graphile_worker.jobs");
    expect(jobs).toEqual([{ task_identifier: "automation.run", key: runs[0]!.id }]);
  });

  it("creates no second run or skip when a batch is delivered again", async () => {
    const fires = await saveAutomation();
    const filtered = await saveAutomation({
      triggers: [{ event: LOST, filter: { compare: { left: "trigger.payload.region", op: "==", right: "'us-east'" } } }],
    });
    const { lost } = await loseHeartbeat();

    decisions = [];
    for (let delivery = 0; delivery < 2; delivery++) await withTransaction(core.pool, (tx) => sink.deliver([lost], tx));

    expect(await listRuns(core.pool, fires.id)).toHaveLength(1);
    expect(await listSkips(core.pool, filtered.id)).toHaveLength(1);
    // …and so enqueues no second job.
    expect((await core.pool.query("SELECT 1 FROM graphile_worker.jobs")).rowCount).toBe(1);
    expect(decisions.map((decision) => [decision.key.automationId, decision.outcome, recorded(decision)])).toEqual([
      [fires.id, "run", false],
      [filtered.id, "skip", false],
      [fires.id, "run", false],
      [filtered.id, "skip", false],
    ]);
  });

  it("calls a batch's writes loseable when no trigger listens to its changes, and not when it decides a run", async () => {
    const { lost } = await loseHeartbeat();
    const loseable = async (batch: RoutedChange[]) => {
      let called = false;
      await withTransaction(core.pool, (tx) => sink.deliver(batch, tx, { loseable: () => (called = true) }));
      return called;
    };
    expect(await loseable([lost])).toBe(true);
    await saveAutomation();
    expect(await loseable([lost])).toBe(false);
  });

  it("records nothing, and does not fail the batch, for an automation deleted after the index last loaded", async () => {
    const automation = await saveAutomation();
    const { lost } = await loseHeartbeat();
    const stale = index.lookup(LOST);
    await store.remove(automation.id);
    const staleSink = createAutomationSink({
      index: { lookup: () => stale },
      triggers: options.triggers,
      entities: core.entities,
      logger: silentLogger(),
      onDecision: (decision) => decisions.push(decision),
    });
    decisions = [];
    await withTransaction(core.pool, (tx) => staleSink.deliver([{ ...lost, change: { ...lost.change, changeId: randomUUID() } }], tx));
    expect(decisions.map((decision) => [decision.outcome, recorded(decision)])).toEqual([["run", false]]);
    expect(await listRuns(core.pool, automation.id)).toEqual([]);
  });

  it("records a skip filter_false when the trigger's filter is false", async () => {
    const automation = await saveAutomation({
      triggers: [{ id: "lost-in-us", event: LOST, filter: { compare: { left: "trigger.payload.region", op: "==", right: "'us-east'" } } }],
    });
    const { lost } = await loseHeartbeat();

    expect(await listRuns(core.pool, automation.id)).toEqual([]);
    const skips = await listSkips(core.pool, automation.id);
    expect(skips).toHaveLength(1);
    expect(skips[0]).toMatchObject({ triggerId: "lost-in-us", triggerEvent: LOST, changeId: lost.change.changeId, reason: "filter_false" });
  });

  it("records a skip condition_false that names the condition that was false", async () => {
    const automation = await saveAutomation({
      conditions: [
        { compare: { left: "trigger.payload.region", op: "==", right: "'eu-west'" } },
        // Read through the entity registry: the satellite is offline by now.
        { compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).status", op: "==", right: "'online'" } },
      ],
    });
    const { lost } = await loseHeartbeat();

    expect(await listRuns(core.pool, automation.id)).toEqual([]);
    const skips = await listSkips(core.pool, automation.id);
    expect(skips).toHaveLength(1);
    expect(skips[0]).toMatchObject({
      changeId: lost.change.changeId,
      reason: "condition_false",
      detail: { condition: 1, path: "conditions.1", message: "condition 2 false" },
    });
  });

  it("runs when every condition holds, reading entity state through the registry", async () => {
    const automation = await saveAutomation({
      conditions: [{ compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).status", op: "==", right: "'offline'" } }],
    });
    await loseHeartbeat();
    expect(await listRuns(core.pool, automation.id)).toHaveLength(1);
    expect(await listSkips(core.pool, automation.id)).toEqual([]);
  });

  it("gives a disabled automation neither a run nor a skip", async () => {
    const disabled = await saveAutomation({ enabled: false });
    const enabled = await saveAutomation();
    await loseHeartbeat();

    expect(await listRuns(core.pool, enabled.id)).toHaveLength(1);
    expect(await listRuns(core.pool, disabled.id)).toEqual([]);
    expect(await listSkips(core.pool, disabled.id)).toEqual([]);
  });

  it("picks up an automation created and then enabled through the store, through NOTIFY, without a restart", async () => {
    expect(index.lookup(LOST)).toEqual([]);
    const automation = await saveAutomation({ enabled: false });
    const first = await loseHeartbeat();

    const enabled = await store.setEnabled(automation.id, true);
    await indexed(enabled, true);
    const second = await loseHeartbeat();

    const runs = await listRuns(core.pool, automation.id);
    expect(runs.map((run) => run.changeId)).toEqual([second.lost.change.changeId]);
    expect(runs.map((run) => run.changeId)).not.toContain(first.lost.change.changeId);

    const disabled = await store.setEnabled(automation.id, false);
    await indexed(disabled, false);
    await loseHeartbeat();
    expect(await listRuns(core.pool, automation.id)).toHaveLength(1);
  });

  it("reloads the index when the notification connection comes back", async () => {
    const automation = await saveAutomation();
    // Written without a NOTIFY (as if it was missed during a reconnect): only a reload sees it.
    await core.pool.query("UPDATE automations SET enabled = false WHERE id = $1", [automation.id]);
    expect(inIndex(automation)).toBe(true);
    expect(await killNotificationConnection(core.pool, core.name)).toBe(1);
    await waitFor(() => !inIndex(automation), reloaded.subscribe, 10_000, "a reload after the reconnect");
  });

  it("stores the satellite id as context_key under concurrency: context", async () => {
    const automation = await saveAutomation({ concurrency: "context" });
    const { satelliteId } = await loseHeartbeat();
    const runs = await listRuns(core.pool, automation.id);
    expect(runs.map((run) => run.contextKey)).toEqual([satelliteId]);
  });

  it("looks triggers up by event id and never evaluates an automation on another event", async () => {
    const onLost = await saveAutomation();
    // If it were evaluated for heartbeat_lost it would record a skip (its filter reads the entity and is false).
    const onConnected = await saveAutomation({
      triggers: [
        { event: CONNECTED, filter: { compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).region", op: "==", right: "'nowhere'" } } },
      ],
    });
    const readsBefore = storeReads;
    lookups = [];
    const { lost } = await loseHeartbeat();

    const decidedFor = (changeId: string) => decisions.filter((decision) => decision.key.changeId === changeId).map((decision) => decision.key.automationId);
    expect(decidedFor(lost.change.changeId)).toEqual([onLost.id]);
    // Each routed change asked the index for its own event ids, nothing else; the store was not read per event.
    expect(lookups).toEqual([CONNECTED, LOST]);
    expect(storeReads).toBe(readsBefore);
    // The connected change did reach the other automation (and its false filter).
    expect((await listSkips(core.pool, onConnected.id)).map((skip) => skip.triggerEvent)).toEqual([CONNECTED]);
    expect(await listSkips(core.pool, onLost.id)).toEqual([]);
  });
});

const statuses = async (automation: AutomationView) => (await listRuns(core.pool, automation.id)).reverse().map((run) => run.status);
const skipReasons = async (automation: AutomationView) => (await listSkips(core.pool, automation.id)).reverse().map((skip) => skip.reason);
const jobKeys = async () => (await core.pool.query<{ key: string }>("SELECT key FROM graphile_worker.jobs ORDER BY key")).rows.map((row) => row.key);

describe("run modes and maxRuns, decided by the sink", () => {
  it("single: skips a trigger while a run is active and records why, naming the active run", async () => {
    const automation = await saveAutomation({ mode: "single" });
    await loseHeartbeat();
    await loseHeartbeat();
    const [active] = await listRuns(core.pool, automation.id);
    expect(await statuses(automation)).toEqual(["pending"]);
    const [skip] = await listSkips(core.pool, automation.id);
    expect(skip).toMatchObject({ reason: "busy", detail: { message: "mode single: a run is already active", activeRunId: active!.id } });
  });

  it("restart: cancels the active run (and its job) and starts the new one", async () => {
    const automation = await saveAutomation({ mode: "restart" });
    await loseHeartbeat();
    await loseHeartbeat();
    const [newer, older] = await listRuns(core.pool, automation.id);
    expect([older!.status, newer!.status]).toEqual(["cancelled", "pending"]);
    expect(older!.error).toBe(`restarted: superseded by run ${newer!.id}`);
    expect(await jobKeys()).toEqual([newer!.id]);
    expect(await skipReasons(automation)).toEqual([]);
  });

  it("queued: queues behind the active run up to maxRuns, skips beyond, and starts the oldest queued run when one ends", async () => {
    const automation = await saveAutomation({ mode: "queued", maxRuns: 3 });
    for (let index = 0; index < 4; index++) await loseHeartbeat();
    expect(await statuses(automation)).toEqual(["pending", "queued", "queued"]);
    expect(await skipReasons(automation)).toEqual(["max_runs"]);
    const [third, second, first] = await listRuns(core.pool, automation.id);
    expect(await jobKeys()).toEqual([first!.id]);

    await withTransaction(core.pool, (tx) => cancelRun(tx, first!.id, "test"));
    expect(await statuses(automation)).toEqual(["cancelled", "pending", "queued"]);
    expect(await jobKeys()).toEqual([second!.id]);
    // Cancelling a queued run starts nothing while another is pending.
    await withTransaction(core.pool, (tx) => cancelRun(tx, third!.id, "test"));
    expect(await statuses(automation)).toEqual(["cancelled", "pending", "cancelled"]);
    expect(await jobKeys()).toEqual([second!.id]);
  });

  it("parallel: starts runs side by side up to maxRuns, then skips with max_runs", async () => {
    const automation = await saveAutomation({ mode: "parallel", maxRuns: 2 });
    for (let index = 0; index < 3; index++) await loseHeartbeat();
    expect(await statuses(automation)).toEqual(["pending", "pending"]);
    expect(await skipReasons(automation)).toEqual(["max_runs"]);
    expect((await listSkips(core.pool, automation.id))[0]!.detail).toEqual({ message: "mode parallel: 2 runs active (maxRuns 2)" });
  });

  it("concurrency context: keeps two satellites independent, and one satellite's runs single", async () => {
    const automation = await saveAutomation({ mode: "single", concurrency: "context" });
    const { satelliteId: a } = await loseHeartbeat();
    const { satelliteId: b } = await loseHeartbeat();
    await reconnect(a);
    await loseHeartbeat(a);
    const runs = await listRuns(core.pool, automation.id);
    expect(runs.map((run) => [run.contextKey, run.status])).toEqual([
      [b, "pending"],
      [a, "pending"],
    ]);
    expect(await skipReasons(automation)).toEqual(["busy"]);
  });

  it("decides a mass loss in one batch: each satellite's scope on its own, an automation-wide scope one change at a time", async () => {
    const perSatellite = await saveAutomation({ mode: "single", concurrency: "context" });
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => service.create({ name: `mass-${i}-${randomUUID().slice(0, 8)}`, region: "eu-west", tokenHash: "unused" })),
    );
    const loseAll = async () => {
      await service.markConnectedMany(ids.map((satelliteId) => ({ satelliteId, sessionId: randomUUID() })));
      clock += 60_000;
      const before = routed.filter((r) => r.eventIds.includes(LOST)).length;
      await service.markHeartbeatLostMany({ satelliteIds: ids });
      await waitFor(() => routed.filter((r) => r.eventIds.includes(LOST)).length === before + ids.length, batches.subscribe, 10_000, "the losses routed");
    };
    await loseAll();
    const runs = await listRuns(core.pool, perSatellite.id);
    expect(runs.map((run) => run.contextKey).sort()).toEqual([...ids].sort());
    expect(new Set(runs.map((run) => run.status))).toEqual(new Set(["pending"]));
    expect((await jobKeys()).length).toBe(ids.length);

    // Every satellite still has its pending run: all busy. The automation-wide single starts one.
    const automationWide = await saveAutomation({ mode: "single" });
    await loseAll();
    expect(await skipReasons(perSatellite)).toEqual(ids.map(() => "busy"));
    expect(await statuses(automationWide)).toEqual(["pending"]);
    expect(await skipReasons(automationWide)).toEqual(ids.slice(1).map(() => "busy"));
  });

  it("decides the changes of one batch in order within a scope, as if one at a time", async () => {
    const { lost } = await loseHeartbeat();
    const queued = await saveAutomation({ mode: "queued", maxRuns: 2 });
    const restart = await saveAutomation({ mode: "restart" });
    const single = await saveAutomation({ mode: "single" });
    const batch = [0, 1, 2].map(() => ({ ...lost, change: { ...lost.change, changeId: randomUUID() } }));
    decisions = [];
    await withTransaction(core.pool, (tx) => sink.deliver(batch, tx));

    expect(await statuses(queued)).toEqual(["pending", "queued"]);
    expect(await skipReasons(queued)).toEqual(["max_runs"]);

    const [third, second, first] = await listRuns(core.pool, restart.id);
    expect([first, second, third].map((run) => run!.status)).toEqual(["cancelled", "cancelled", "pending"]);
    expect([first!.error, second!.error]).toEqual([`restarted: superseded by run ${second!.id}`, `restarted: superseded by run ${third!.id}`]);

    const [active] = await listRuns(core.pool, single.id);
    expect(await statuses(single)).toEqual(["pending"]);
    expect((await listSkips(core.pool, single.id)).map((skip) => skip.detail.activeRunId)).toEqual([active!.id, active!.id]);

    // Jobs only for the runs left pending.
    const [queuedPending] = (await listRuns(core.pool, queued.id)).reverse();
    expect(await jobKeys()).toEqual([queuedPending!.id, third!.id, active!.id].sort());
    // Decisions observed in batch order, each change's in the index's order.
    const outcomes = (automation: AutomationView) =>
      decisions.filter((decision) => decision.key.automationId === automation.id).map((decision) => [decision.key.changeId, decision.outcome]);
    expect(outcomes(single)).toEqual([
      [batch[0]!.change.changeId, "run"],
      [batch[1]!.change.changeId, "skip"],
      [batch[2]!.change.changeId, "skip"],
    ]);
  });

  it("decides a batch of any size in the same statements", async () => {
    const { lost } = await loseHeartbeat();
    await saveAutomation({ mode: "parallel", maxRuns: 1000 });
    await saveAutomation({ triggers: [{ event: LOST, filter: { compare: { left: "trigger.payload.region", op: "==", right: "'us-east'" } } }] });
    const statements = async (size: number) => {
      const batch = Array.from({ length: size }, () => ({ ...lost, change: { ...lost.change, changeId: randomUUID() } }));
      let count = 0;
      await withTransaction(core.pool, (tx) =>
        sink.deliver(batch, {
          query: ((...args: Parameters<typeof tx.query>) => {
            count += 1;
            return tx.query(...args);
          }) as typeof tx.query,
        }),
      );
      return count;
    };
    const one = await statements(1);
    expect(await statements(50)).toBe(one);
    expect(await statements(200)).toBe(one);
  });

  it("records automation_disabled when the automation was disabled after the index last loaded", async () => {
    const automation = await saveAutomation();
    // Disabled behind the index's back (no notice): the index still routes to it.
    await core.pool.query("UPDATE automations SET enabled = false WHERE id = $1", [automation.id]);
    const { lost } = await loseHeartbeat();
    expect(await listRuns(core.pool, automation.id)).toEqual([]);
    expect(await listSkips(core.pool, automation.id)).toMatchObject([{ reason: "automation_disabled", changeId: lost.change.changeId }]);
  });

  it("stores the verdict of the filter and of each condition with the run", async () => {
    const automation = await saveAutomation({
      triggers: [{ event: LOST, filter: { compare: { left: "trigger.payload.region", op: "==", right: "'eu-west'" } } }],
      conditions: [{ compare: { left: "trigger.payload.status", op: "==", right: "'offline'" } }, { not: { compare: { left: 1, op: "==", right: 2 } } }],
    });
    await loseHeartbeat();
    const [run] = await listRuns(core.pool, automation.id);
    expect(run!.verdicts).toEqual([
      { path: "triggers.0.filter", passed: true },
      { path: "conditions.0", passed: true },
      { path: "conditions.1", passed: true },
    ]);
  });
});

const timers = async () =>
  (await core.pool.query<{ id: string; entity_id: string; due_at: Date }>("SELECT id, entity_id, due_at FROM automation_trigger_timers ORDER BY created_at"))
    .rows;

describe("triggers with `for:`", () => {
  const fire = (timerId: string) =>
    createTimerFiring({ pool: core.pool, index, triggers: options.triggers, entities: core.entities, logger: silentLogger() })(timerId);

  it("start a durable timer, due when the duration has passed since the change, instead of a run", async () => {
    const automation = await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    const { satelliteId, lost } = await loseHeartbeat();
    expect(await listRuns(core.pool, automation.id)).toEqual([]);
    const [timer] = await timers();
    expect(timer).toMatchObject({ entity_id: satelliteId, due_at: new Date(Date.parse(lost.change.occurredAt) + 300_000) });
    const { rows: jobs } = await core.pool.query<{ task_identifier: string; key: string; run_at: Date }>(
      "SELECT task_identifier, key, run_at FROM graphile_worker.jobs",
    );
    expect(jobs).toEqual([{ task_identifier: AutomationTask.timer, key: `timer:${timer!.id}`, run_at: timer!.due_at }]);
  });

  it("fire a run with the original change's payload when the timer runs out, once however often it is fired", async () => {
    const automation = await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    const { satelliteId, lost } = await loseHeartbeat();
    const [timer] = await timers();
    await fire(timer!.id);
    await fire(timer!.id);
    const runs = await listRuns(core.pool, automation.id);
    expect(runs).toMatchObject([{ status: "pending", changeId: lost.change.changeId, trigger: { forMs: 300_000, payload: { satelliteId } } }]);
    expect(await timers()).toEqual([]);
  });

  it("are cancelled by a contrary change of the same entity, which records why nothing fired", async () => {
    const automation = await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    const { satelliteId, lost } = await loseHeartbeat();
    const [timer] = await timers();
    const connected = await reconnect(satelliteId);
    expect(await timers()).toEqual([]);
    expect((await core.pool.query("SELECT 1 FROM graphile_worker.jobs")).rowCount).toBe(0);
    await fire(timer!.id); // a job already running when the timer was cancelled fires nothing
    expect(await listRuns(core.pool, automation.id)).toEqual([]);
    const [skip] = await listSkips(core.pool, automation.id);
    expect(skip).toMatchObject({ reason: "for_cancelled", changeId: lost.change.changeId, detail: { cancelledBy: connected.change.changeId } });
    expect(skip!.detail.message).toMatch(/stopped matching after .* of its 300 s: it emitted satellite.connected/);
  });

  it("keep counting while the entity still matches: a heartbeat loss followed by the connection closing is one outage", async () => {
    await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    const { satelliteId, sessionId } = await loseHeartbeat();
    await routedAfter(satelliteId, "satellite.disconnected", () => service.markDisconnected({ satelliteId, sessionId }));
    expect((await timers()).map((timer) => timer.entity_id)).toEqual([satelliteId]);
  });

  it("are not cancelled by a change that emits no event, nor by another entity's change", async () => {
    await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    const { satelliteId } = await loseHeartbeat();
    await loseHeartbeat(); // another satellite: a second timer
    const registry = new SatelliteRegistry({ pool: core.pool, satellites: service, now: () => clock });
    await registry.update(satelliteId, { name: `renamed-${randomUUID().slice(0, 8)}` }, { actor: SYSTEM_ACTOR });
    await waitFor(
      () => routed.some((r) => r.change.id === satelliteId && r.change.changedFields.includes("name")),
      batches.subscribe,
      10_000,
      "the rename routed",
    );
    expect((await timers()).length).toBe(2);
  });

  it("re-check the filter and the conditions against the state when the timer runs out", async () => {
    const automation = await saveAutomation({
      triggers: [{ event: LOST, for: "5m" }],
      conditions: [{ compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).name", op: "==", right: "'still-here'" } }],
    });
    await loseHeartbeat();
    const [timer] = await timers();
    await fire(timer!.id);
    expect(await listRuns(core.pool, automation.id)).toEqual([]);
    expect(await listSkips(core.pool, automation.id)).toMatchObject([{ reason: "condition_false", verdicts: [{ path: "conditions.0", passed: false }] }]);
  });
});

describe("judging a batch before the router's transaction (prepare)", () => {
  const prepare = (batch: RoutedChange[]) => sink.prepare!(batch, core.pool);
  /** The same change as the router would route it without events (as a rename does): no trigger listens. */
  const eventless = (routed: RoutedChange): RoutedChange => ({ ...routed, eventIds: [] });

  it("has nothing to write for a batch no trigger listens to, with no timer to cancel and no run waiting on its entities", async () => {
    const { lost } = await loseHeartbeat();
    expect(await prepare([lost])).toBeNull();
  });

  it("has writes for a batch that decides a run", async () => {
    await saveAutomation();
    const { lost } = await loseHeartbeat();
    expect(await prepare([lost])).not.toBeNull();
  });

  it("has writes for a batch that cancels a `for:` timer, though no trigger listens to its changes", async () => {
    await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    const { lost } = await loseHeartbeat();
    expect(await timers()).toHaveLength(1);
    expect(await prepare([eventless(lost)])).toBeNull(); // a change with no event keeps the timer
    const removed = { ...eventless(lost), change: { ...lost.change, next: null } };
    const delivery = await prepare([removed]);
    expect(delivery).not.toBeNull();
    await withTransaction(core.pool, (tx) => delivery!(tx));
    expect(await timers()).toEqual([]);
  });

  it("has writes for a batch that changes an entity a running run waits on, and waking it twice leaves it one job", async () => {
    const automation = await saveAutomation();
    const { satelliteId, lost } = await loseHeartbeat();
    const [run] = await listRuns(core.pool, automation.id);
    // The run got as far as a wait_until on the satellite (what its step registers).
    await core.pool.query("UPDATE automation_runs SET status = 'running' WHERE id = $1", [run!.id]);
    await registerWaits(core.pool, run!.id, "actions.0", [{ kind: "satellite-connection", id: satelliteId }]);

    const delivery = await prepare([eventless(lost)]);
    expect(delivery).not.toBeNull();
    // Its admission left it one job; woken, and woken again (delivered again after a crash):
    // the wake is keyed by the run, so it is one job still.
    for (let delivered = 0; delivered < 2; delivered++) await withTransaction(core.pool, (tx) => delivery!(tx));
    const { rows: jobs } = await core.pool.query<{ key: string }>("SELECT key FROM graphile_worker.jobs");
    expect(jobs).toEqual([{ key: run!.id }]);
    expect(await listRuns(core.pool, automation.id)).toHaveLength(1);
  });
});

describe("the router's round trips for a batch that decides a run", () => {
  /** The router's transactions as the spy saw them, each its round trips from the UPDATE of its cursor to COMMIT or ROLLBACK. */
  const routerTransactions = (spy: { mock: { calls: ReadonlyArray<readonly unknown[]>; contexts: readonly unknown[] } }) => {
    const calls = spy.mock.calls.map(([query], i) => ({ client: spy.mock.contexts[i], texts: statementsSent([[query]]).map(textOf) }));
    return calls.flatMap(({ client, texts }, i) => {
      if (!texts.some((text) => text.includes("UPDATE entity_consumer_cursors"))) return [];
      const ours = calls.slice(i).filter((call) => call.client === client);
      const end = ours.findIndex((call) => call.texts.includes("COMMIT") || call.texts.includes("ROLLBACK"));
      return [ours.slice(0, end + 1).map((call) => call.texts)];
    });
  };
  const EARLIER_DECISIONS = "LEFT JOIN automation_skips";

  it("are two: BEGIN, the cursor and the decisions' reads; then the run's insert, COMMIT and the next read", async () => {
    await saveAutomation();
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      await loseHeartbeat();
      const [trips] = routerTransactions(spy);
      expect(trips).toEqual([
        [
          "BEGIN",
          expect.stringContaining("UPDATE entity_consumer_cursors"),
          expect.stringContaining("WITH woken AS"),
          expect.stringContaining("FROM automation_trigger_timers"),
          expect.stringContaining("pg_advisory_xact_lock(key)"),
          expect.stringContaining("a.enabled"),
        ],
        [expect.stringContaining("INSERT INTO automation_runs"), "COMMIT", expect.stringContaining("FROM entity_changes")],
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("looks for earlier decisions only in a batch routed again after a failed attempt, which records its run once", async () => {
    const automation = await saveAutomation();
    // A second sink refuses the first batch the router hands it: the automation sink's statements were sent and roll back.
    let refused = 0;
    core.router.addSink({
      name: "refuses-once",
      async deliver(batch) {
        if (batch.some((routed) => routed.eventIds.includes(LOST)) && refused++ === 0) throw new Error("refused once");
      },
    });
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      await loseHeartbeat();
      const writing = routerTransactions(spy).filter((trips) => trips.flat().some((text) => text.includes("INSERT INTO automation_runs")));
      expect(writing.map((trips) => trips.flat().some((text) => text.includes(EARLIER_DECISIONS)))).toEqual([false, true]);
    } finally {
      spy.mockRestore();
    }
    expect(refused).toBe(2);
    expect(await listRuns(core.pool, automation.id)).toHaveLength(1);
    expect(decisions.filter((decision) => decision.outcome === "run").map(recorded)).toEqual([true, true]);
  });
});
