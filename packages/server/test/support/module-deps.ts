// What startCore hands a module's start function, over one test instance (its pool, hub,
// entities and router), so a test starts a module exactly as the core does.
import { randomBytes } from "node:crypto";
import { Registry } from "prom-client";
import { createClientAddressOf } from "../../src/auth/index.ts";
import { createTriggerRegistry } from "../../src/automations/index.ts";
import { createStopStack, type ModuleDeps } from "../../src/core-module.ts";
import { createSecretBox } from "../../src/crypto/secret-box.ts";
import { silentLogger } from "../../src/log.ts";
import type { TestInstance } from "./instance.ts";

export interface TestModuleDeps {
  deps: ModuleDeps;
  /** Runs every stop the modules handed over, last first (before the instance stops). */
  stop(): Promise<void>;
}

export function testModuleDeps(instance: TestInstance, overrides: Partial<Omit<ModuleDeps, "onStop">> = {}): TestModuleDeps {
  const logger = overrides.logger ?? silentLogger();
  const stops = createStopStack(logger);
  const deps: ModuleDeps = {
    instanceId: instance.name,
    config: { host: "127.0.0.1", port: 0, dataDir: "/nonexistent" },
    pool: instance.pool,
    databaseUrl: instance.url,
    hub: instance.hub,
    entities: instance.entities,
    triggers: createTriggerRegistry(),
    router: instance.router,
    box: createSecretBox(randomBytes(32)),
    metrics: new Registry(),
    clientAddressOf: createClientAddressOf(),
    logger,
    now: Date.now,
    ...overrides,
    onStop: stops.add,
  };
  return { deps, stop: () => stops.stopAll() };
}
