// Every /api/v1 route of the core over one test instance: the modules started by their own
// start functions and served by the core's app, as startCore does — for tests of the API's
// edge that must reach every route (hostile input, fuzzing). useFullApiApp gives a test file one
// over a database of its own, for all its tests.
import type { Hono } from "hono";
import { afterAll, beforeAll } from "vitest";
import { startAutomations } from "../../../src/automations/index.ts";
import { startChecks } from "../../../src/checks/index.ts";
import { startConfig } from "../../../src/config/index.ts";
import { startEvents } from "../../../src/events/index.ts";
import { startNotifications } from "../../../src/notifications/index.ts";
import { startSatellites } from "../../../src/satellites/index.ts";
import { type Answer, callApi, createModulesApp } from "./api-app.ts";
import { createTestDatabase } from "../database.ts";
import { startTestInstance, type TestInstance } from "../instance.ts";
import { testModuleDeps } from "../module-deps.ts";

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
    const checks = await startChecks(deps, { satellites });
    const automations = await startAutomations(deps, { notifications });
    const events = await startEvents(deps);
    const config = startConfig(deps, { satellites, notifications, checks, automations });
    return { app: await createModulesApp(instance.pool, [satellites, notifications, checks, automations, events, config], { now }), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A test file's full API, from useFullApiApp: read its parts inside tests and later hooks. */
export interface FullApiFixture {
  readonly app: Hono;
  readonly instance: TestInstance;
  /** One admin call to `/api/v1<path>`. */
  call<Body = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Answer<Body>>;
}

/**
 * Before the file's tests: a database of its own, an instance named `name` over it and the whole
 * admin API; after them, both stopped (the API first). Call at the top of a test file.
 */
export function useFullApiApp(name: string): FullApiFixture {
  let instance: TestInstance | undefined;
  let api: FullApiApp | undefined;
  beforeAll(async () => {
    const { url } = await createTestDatabase();
    instance = await startTestInstance(url, name);
    api = await createFullApiApp(instance);
  });
  afterAll(async () => {
    await api?.stop();
    await instance?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`useFullApiApp("${name}") was read before its beforeAll ran: read it inside a test or a later hook`);
    return value;
  };
  return {
    get app() {
      return started(api).app;
    },
    get instance() {
      return started(instance);
    },
    call: <Body = Record<string, unknown>>(method: string, path: string, body?: unknown) => callApi<Body>(started(api).app, method, `/api/v1${path}`, body),
  };
}
