// Every /api/v1 route of the core, mounted as main.ts mounts them, over one test instance:
// for tests of the API's edge that must reach every route (hostile input, fuzzing).
import { randomBytes } from "node:crypto";
import { HEARTBEAT_INTERVAL_MS } from "@vantage/protocol";
import type { Hono } from "hono";
import { Registry } from "prom-client";
import { AutomationStore, createAutomationRoutes, createTriggerRoutes } from "../../src/automations/index.ts";
import { createCoreLocation, standInCheckSource, standInResultSink, standInRunProbe } from "../../src/checks/index.ts";
import { createSecretBox } from "../../src/crypto/secret-box.ts";
import { silentLogger } from "../../src/log.ts";
import { createNotificationChannelRoutes, createNotificationSenders, NotificationService } from "../../src/notifications/index.ts";
import { createSatelliteRoutes, SatelliteRegistry, SatelliteService } from "../../src/satellites/index.ts";
import { satelliteCompileOptions } from "./compile-options.ts";
import { createApiApp } from "./api-app.ts";
import type { TestInstance } from "./instance.ts";

/** The whole admin API over `instance`; notification tests time out fast (their targets are loopback ports). */
export async function createFullApiApp(instance: TestInstance, now: () => number = Date.now): Promise<Hono> {
  const { pool, entities } = instance;
  const box = createSecretBox(randomBytes(32));
  const satellites = new SatelliteService({ pool, entities, now });
  const registry = new SatelliteRegistry({ pool, satellites, now });
  const notifications = new NotificationService({ pool, box, senders: createNotificationSenders({ timeoutMs: 1_000, now }) });
  const automationStore = new AutomationStore(pool, box);
  const { triggers, entityKinds } = satelliteCompileOptions();
  // Its routes only: the scheduler is never started here.
  const coreLocation = createCoreLocation({
    pool,
    hub: instance.hub,
    logger: silentLogger(),
    registry: new Registry(),
    instanceId: "test-instance",
    now,
    runProbe: standInRunProbe,
    source: standInCheckSource(pool),
    ingest: standInResultSink(silentLogger()),
  });
  return createApiApp(pool, {
    "/satellites": createSatelliteRoutes({ registry, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS }),
    "/notification-channels": createNotificationChannelRoutes({ service: notifications }, (channel) => automationStore.namesNotifying(channel)),
    "/automations": createAutomationRoutes({ pool, box, notifications, triggers, entityKinds }),
    "/triggers": createTriggerRoutes({ triggers }),
    "/checks": coreLocation.routes,
  });
}
