// The routing half of the automation engine as the executor tests need it: one instance
// whose router feeds the automation sink, a satellite service on an injected clock, and the
// automation store and index, plus the two moves every executor test makes.

const LOST = "satellite.heartbeat_lost";
import { randomBytes, randomUUID } from "node:crypto";
import type { AutomationIndex } from "../../../src/automations/index.ts";
import { AutomationStore, type AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import { createAutomationIndex } from "../../../src/automations/routing/automation-index.ts";
import { createAutomationSink } from "../../../src/automations/routing/automation-sink.ts";
import type { RunHandoff } from "../../../src/automations/execution/run-handoff.ts";
import type { SecretBox } from "../../../src/crypto/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { SatelliteService } from "../../../src/satellites/index.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../instance.ts";
import { satelliteCompiler } from "./satellite-compiler.ts";

export interface AutomationRouting {
  core: TestInstance;
  service: SatelliteService;
  store: AutomationStore;
  /** The box the store seals webhook secrets with: an executor must open them with it. */
  box: SecretBox;
  index: AutomationIndex;
  /** Saves an automation on satellite.heartbeat_lost (plus `extra` fields) and resolves once the index has it. */
  saveAutomation(actions: unknown[], extra?: Record<string, unknown>): Promise<AutomationView>;
  /** A satellite (a new one, or the one named) connects and misses its heartbeats: the router routes satellite.heartbeat_lost. */
  loseHeartbeat(satelliteId?: string): Promise<string>;
  stop(): Promise<void>;
}

/** `onReload` also hears index reloads; `handoff` takes the runs the sink records (a core's own worker); the satellites run on the fixture's own clock. */
export async function startAutomationRouting(
  url: string,
  name: string,
  options: { onReload?: () => void; handoff?: RunHandoff } = {},
): Promise<AutomationRouting> {
  let clock = Date.parse("2026-11-27T12:00:00.000Z");
  const reloaded = createSignal();
  const core = await startTestInstance(url, name);
  const service = new SatelliteService({ pool: core.pool, entities: core.entities, now: () => clock });
  // Over the kinds the instance defines, as a core's compiler is.
  const compile = satelliteCompiler(core.entities);
  const box = createSecretBox(randomBytes(32));
  const store = new AutomationStore(core.pool, box);
  const onReload = () => {
    reloaded.emit();
    options.onReload?.();
  };
  const index = createAutomationIndex({ store, hub: core.hub, logger: silentLogger(), ...compile, onReload });
  await index.start();
  core.router.addSink(createAutomationSink({ index, triggers: compile.triggers, entities: core.entities, logger: silentLogger(), handoff: options.handoff }));
  core.router.start();
  return {
    core,
    service,
    store,
    box,
    index,
    async saveAutomation(actions, extra = {}) {
      const result = compile.compiler.compile({ name: `${name}-${randomUUID().slice(0, 8)}`, triggers: [{ event: LOST }], actions, ...extra });
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      const view = await store.create(result.compiled);
      await waitFor(() => index.lookup(LOST).some((match) => match.automation.id === view.id), reloaded.subscribe, 5_000, `${view.name} in the index`);
      return view;
    },
    async loseHeartbeat(existing) {
      const satelliteId = existing ?? (await service.create({ name: `edge-${randomUUID().slice(0, 8)}`, region: "eu-west", tokenHash: "unused" }));
      await service.markConnected({ satelliteId, sessionId: randomUUID() });
      clock += 60_000; // past the default offline threshold
      await service.markHeartbeatLost({ satelliteId });
      return satelliteId;
    },
    stop: async () => {
      await index.stop();
      await core.stop();
    },
  };
}
