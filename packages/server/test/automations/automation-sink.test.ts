import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AutomationIndex,
  AutomationStore,
  type AutomationView,
  compileAutomation,
  createAutomationIndex,
  createAutomationSink,
  type Decision,
  listRuns,
  listSkips,
} from "../../src/automations/index.ts";
import type { ChangeSink, RoutedChange } from "../../src/entities/index.ts";
import { silentLogger } from "../../src/log.ts";
import { SatelliteService } from "../../src/satellites/index.ts";
import { withTransaction } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../support/instance.ts";
import { satelliteCompileOptions } from "./compile-options.ts";

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
let decisions: Decision[];
/** Event ids the sink looked up in the index, in order. */
let lookups: string[];
/** How often the index read the store. */
let storeReads: number;
const batches = createSignal();
const reloaded = createSignal();
const options = satelliteCompileOptions();

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
  store = new AutomationStore(core.pool);
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
  sink = createAutomationSink({ index: spiedIndex, triggers: options.triggers, entities: core.entities, logger: silentLogger(), onDecision: (decision) => decisions.push(decision) });
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
  const result = compileAutomation({ name: `automation-${named}`, triggers: [{ event: LOST }], actions: [{ log: { message: "{{ trigger.payload.name }} is gone" } }], ...overrides }, options);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const view = await store.create(result.compiled);
  await indexed(view, view.enabled);
  return view;
}

const inIndex = (view: AutomationView) => view.triggers.some((trigger) => index.lookup(trigger.event).some((match) => match.automation.id === view.id && match.automation.version === view.version));

/** Waits, through the index's reloads (never a sleep), until it holds the automation or not. */
async function indexed(view: AutomationView, present: boolean): Promise<void> {
  if (present) {
    await waitFor(() => inIndex(view), reloaded.subscribe, 5_000, `${view.name} in the index`);
    return;
  }
  // Absent before and after: wait for a reload that started after the write.
  let reloads = 0;
  await waitFor(() => reloads > 0, (wake) => reloaded.subscribe(() => ((reloads += 1), wake())), 5_000, `a reload after saving ${view.name}`);
  expect(inIndex(view)).toBe(false);
}

const routedEvent = (satelliteId: string, eventId: string) => routed.find((r) => r.change.id === satelliteId && r.eventIds.includes(eventId));

/** A satellite connects and then misses its heartbeats; resolves once the router committed the heartbeat_lost change. */
async function loseHeartbeat(): Promise<{ satelliteId: string; lost: RoutedChange }> {
  const satelliteId = await service.create({ name: `edge-${randomUUID().slice(0, 8)}`, region: "eu-west", tokenHash: "unused" });
  await service.markConnected({ satelliteId, sessionId: randomUUID() });
  clock += 60_000; // past the default 45 s threshold
  await service.markHeartbeatLost({ satelliteId });
  await waitFor(() => routedEvent(satelliteId, LOST) !== undefined, batches.subscribe, 10_000, `${LOST} of ${satelliteId} routed`);
  return { satelliteId, lost: routedEvent(satelliteId, LOST)! };
}

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
    const filtered = await saveAutomation({ triggers: [{ event: LOST, filter: { compare: { left: "trigger.payload.region", op: "==", right: "'us-east'" } } }] });
    const { lost } = await loseHeartbeat();

    decisions = [];
    for (let delivery = 0; delivery < 2; delivery++) await withTransaction(core.pool, (tx) => sink.deliver([lost], tx));

    expect(await listRuns(core.pool, fires.id)).toHaveLength(1);
    expect(await listSkips(core.pool, filtered.id)).toHaveLength(1);
    // …and so enqueues no second job.
    expect((await core.pool.query("SELECT 1 FROM graphile_worker.jobs")).rowCount).toBe(1);
    expect(decisions.map((decision) => [decision.key.automationId, decision.outcome, decision.recorded])).toEqual([
      [fires.id, "run", false],
      [filtered.id, "skip", false],
      [fires.id, "run", false],
      [filtered.id, "skip", false],
    ]);
  });

  it("records nothing, and does not fail the batch, for an automation deleted after the index last loaded", async () => {
    const automation = await saveAutomation();
    const { lost } = await loseHeartbeat();
    const stale = index.lookup(LOST);
    await store.remove(automation.id);
    const staleSink = createAutomationSink({ index: { lookup: () => stale }, triggers: options.triggers, entities: core.entities, logger: silentLogger(), onDecision: (decision) => decisions.push(decision) });
    decisions = [];
    await withTransaction(core.pool, (tx) => staleSink.deliver([{ ...lost, change: { ...lost.change, changeId: randomUUID() } }], tx));
    expect(decisions.map((decision) => [decision.outcome, decision.recorded])).toEqual([["run", false]]);
    expect(await listRuns(core.pool, automation.id)).toEqual([]);
  });

  it("records a skip filter_false when the trigger's filter is false", async () => {
    const automation = await saveAutomation({ triggers: [{ id: "lost-in-us", event: LOST, filter: { compare: { left: "trigger.payload.region", op: "==", right: "'us-east'" } } }] });
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
    expect(skips[0]).toMatchObject({ changeId: lost.change.changeId, reason: "condition_false", detail: { condition: 1, path: "conditions.1", message: "condition 2 false" } });
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
    await core.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'", [core.name]);
    await waitFor(() => !inIndex(automation), reloaded.subscribe, 10_000, "a reload after the reconnect");
  });

  it("stores the satellite id as context_key under concurrency: context", async () => {
    const automation = await saveAutomation({ concurrency: "context" });
    const { satelliteId } = await loseHeartbeat();
    const runs = await listRuns(core.pool, automation.id);
    expect(runs.map((run) => run.contextKey)).toEqual([satelliteId]);
  });

  it("records a trigger with `for:` as a pending run that carries the duration (the run engine honours it)", async () => {
    const automation = await saveAutomation({ triggers: [{ event: LOST, for: "5m" }] });
    await loseHeartbeat();
    const runs = await listRuns(core.pool, automation.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.trigger.forMs).toBe(300_000);
  });

  it("looks triggers up by event id and never evaluates an automation on another event", async () => {
    const onLost = await saveAutomation();
    // If it were evaluated for heartbeat_lost it would record a skip (its filter reads the entity and is false).
    const onConnected = await saveAutomation({
      triggers: [{ event: CONNECTED, filter: { compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).region", op: "==", right: "'nowhere'" } } }],
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
