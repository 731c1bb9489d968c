// Every /api/v1 route of the core over one test instance: the modules started by their own
// start functions and served by the core's app, as startCore does — for tests of the API's
// edge that must reach every route (hostile input, fuzzing).
import type { Hono } from "hono";
import { startAutomations } from "../../src/automations/index.ts";
import { startChecks } from "../../src/checks/index.ts";
import { startEvents } from "../../src/events/index.ts";
import { startNotifications } from "../../src/notifications/index.ts";
import { startSatellites } from "../../src/satellites/index.ts";
import { createModulesApp } from "./api-app.ts";
import type { TestInstance } from "./instance.ts";
import { testModuleDeps } from "./module-deps.ts";

export interface FullApiApp {
  app: Hono;
  /** Stops what the modules started (the automation index); call before the instance stops. */
  stop(): Promise<void>;
}

/** The whole admin API over `instance`; notifications time out fast (their targets are loopback ports). */
export async function createFullApiApp(instance: TestInstance, now: () => number = Date.now): Promise<FullApiApp> {
  const { deps, stop } = testModuleDeps(instance, { now });
  try {
    const satellites = await startSatellites(deps);
    const notifications = await startNotifications(deps, { deliveryTimeoutMs: 1_000 });
    const checks = await startChecks(deps);
    const automations = await startAutomations(deps, { notifications });
    const events = await startEvents(deps);
    return { app: await createModulesApp(instance.pool, [satellites, notifications, checks, automations, events]), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
