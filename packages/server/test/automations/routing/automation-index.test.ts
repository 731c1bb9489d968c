// The automation index: enabled automations by event id, one reload per burst of notices and after a reconnect, broken definitions skipped.
import { describe, expect, it } from "vitest";
import { createAutomationIndex } from "../../../src/automations/routing/automation-index.ts";
import { AUTOMATIONS_CHANGED_CHANNEL, type AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import type { NotificationHub } from "../../../src/cluster/notification-hub.ts";
import { silentLogger } from "../../../src/log.ts";
import { createSignal, waitFor } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";

const options = satelliteCompiler();

function view(id: string, event: string): AutomationView {
  const result = options.compiler.compile({ name: id, triggers: [{ event }], actions: [{ log: { message: "x" } }] });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return { id, version: 1, createdAt: "2026-11-27T12:00:00.000Z", updatedAt: "2026-11-27T12:00:00.000Z", ...result.compiled.definition };
}

/** A hub that delivers what the test hands it. */
function fakeHub() {
  const handlers = new Map<string, (payload: string) => void>();
  const reconnects = new Set<() => void>();
  const hub: NotificationHub = {
    subscribe: async (channel, handler) => {
      handlers.set(channel, handler);
      return async () => void handlers.delete(channel);
    },
    notify: async () => undefined,
    onReconnect: (handler) => {
      reconnects.add(handler);
      return () => reconnects.delete(handler);
    },
    start: async () => undefined,
    stop: async () => undefined,
  };
  return {
    hub,
    notify: () => handlers.get(AUTOMATIONS_CHANGED_CHANNEL)?.(JSON.stringify({ id: "a", op: "updated" })),
    reconnect: () => reconnects.forEach((handler) => handler()),
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe("the automation index", () => {
  it("lists each enabled automation's triggers under their event ids only", async () => {
    const { hub } = fakeHub();
    const index = createAutomationIndex({
      store: { listEnabledFor: async () => [view("lost", "satellite.heartbeat_lost"), view("up", "satellite.connected")] },
      hub,
      logger: silentLogger(),
      ...options,
    });
    await index.start();
    expect(index.lookup("satellite.heartbeat_lost").map((match) => match.automation.id)).toEqual(["lost"]);
    expect(index.lookup("satellite.connected").map((match) => match.automation.id)).toEqual(["up"]);
    expect(index.lookup("satellite.disconnected")).toEqual([]);
    await index.stop();
  });

  it("coalesces notices that arrive during a load into exactly one more load, which sees the last write", async () => {
    const { hub, notify } = fakeHub();
    const loads: Array<ReturnType<typeof deferred<AutomationView[]>>> = [];
    const started = createSignal();
    const reloaded = createSignal();
    let reloads = 0;
    const store = {
      listEnabledFor: () => {
        const load = deferred<AutomationView[]>();
        loads.push(load);
        started.emit();
        return load.promise;
      },
    };
    const index = createAutomationIndex({ store, hub, logger: silentLogger(), ...options, onReload: () => ((reloads += 1), reloaded.emit()) });
    const starting = index.start();
    await waitFor(() => loads.length === 1, started.subscribe);
    loads[0]!.resolve([]);
    await starting;

    notify();
    await waitFor(() => loads.length === 2, started.subscribe);
    notify();
    notify();
    loads[1]!.resolve([view("stale", "satellite.connected")]);
    await waitFor(() => loads.length === 3, started.subscribe);
    loads[2]!.resolve([view("fresh", "satellite.connected")]);
    await waitFor(() => reloads === 3, reloaded.subscribe);
    expect(loads).toHaveLength(3);
    expect(index.lookup("satellite.connected").map((match) => match.automation.id)).toEqual(["fresh"]);
    await index.stop();
  });

  it("retries a reload that failed, and reloads after a reconnect", async () => {
    const { hub, reconnect } = fakeHub();
    const reloaded = createSignal();
    let calls = 0;
    const store = {
      listEnabledFor: async () => {
        calls += 1;
        if (calls === 2) throw new Error("connection reset");
        return calls === 1 ? [] : [view("after", "satellite.heartbeat_lost")];
      },
    };
    const index = createAutomationIndex({ store, hub, logger: silentLogger(), ...options, retryMs: 10, onReload: () => reloaded.emit() });
    await index.start();
    reconnect();
    await waitFor(() => index.lookup("satellite.heartbeat_lost").length === 1, reloaded.subscribe, 5_000, "the retried reload");
    expect(calls).toBe(3);
    await index.stop();
  });

  it("skips a stored automation that no longer compiles and keeps the others", async () => {
    const { hub } = fakeHub();
    const broken = { ...view("broken", "satellite.connected"), triggers: [{ event: "gone.event" }] } as AutomationView;
    const index = createAutomationIndex({
      store: { listEnabledFor: async () => [broken, view("fine", "satellite.connected")] },
      hub,
      logger: silentLogger(),
      ...options,
    });
    await index.start();
    expect(index.lookup("satellite.connected").map((match) => match.automation.id)).toEqual(["fine"]);
    expect(index.lookup("gone.event")).toEqual([]);
    await index.stop();
  });
});
