// The routing half of the automation engine as the executor tests need it: one instance
// whose router feeds the automation sink, a satellite service on an injected clock, and the
// automation store and index.
import { type AutomationIndex, AutomationStore, createAutomationIndex, createAutomationSink } from "../../src/automations/index.ts";
import { silentLogger } from "../../src/log.ts";
import { SatelliteService } from "../../src/satellites/index.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";
import { satelliteCompileOptions } from "./compile-options.ts";

export interface AutomationRouting {
  core: TestInstance;
  service: SatelliteService;
  store: AutomationStore;
  index: AutomationIndex;
  stop(): Promise<void>;
}

export async function startAutomationRouting(url: string, name: string, options: { now: () => number; onReload: () => void }): Promise<AutomationRouting> {
  const compile = satelliteCompileOptions();
  const core = await startTestInstance(url, name);
  const service = new SatelliteService({ pool: core.pool, entities: core.entities, now: options.now });
  const store = new AutomationStore(core.pool);
  const index = createAutomationIndex({ store, hub: core.hub, logger: silentLogger(), ...compile, onReload: options.onReload });
  await index.start();
  core.router.addSink(createAutomationSink({ index, triggers: compile.triggers, entities: core.entities, logger: silentLogger() }));
  core.router.start();
  return {
    core,
    service,
    store,
    index,
    stop: async () => {
      await index.stop();
      await core.stop();
    },
  };
}
