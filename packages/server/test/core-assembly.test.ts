// Proves how startCore assembles its modules: each declares its triggers and entity kinds before
// the automations start, and shutdown stops everything in the exact reverse order of start.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Core, startCore } from "../src/main.ts";
import { createTestDatabase } from "./support/database.ts";

const logs: Array<Record<string, unknown>> = [];
let core: Core | undefined;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl: url, dataDir: "/nonexistent", adminToken: "core-assembly-admin-token-0123" }, logger);
});

afterAll(async () => {
  await core?.stop();
});

describe("startCore's assembly of modules", () => {
  it("has the satellites' and checks' triggers and entity kinds (and the automations' run kind) registered, as the automations compile against them", async () => {
    expect(core!.triggers.list().map((trigger) => trigger.id)).toEqual([
      "check.degraded",
      "check.flapping_started",
      "check.flapping_stopped",
      "check.health_changed",
      "check.recovered",
      "check.unhealthy",
      "check.unknown",
      "satellite.connected",
      "satellite.disconnected",
      "satellite.heartbeat_lost",
    ]);
    expect([...core!.entities.kinds().keys()]).toEqual(["satellite-connection", "check-health", "automation-run-status"]);
  });

  it("stops in the reverse order of start: satellites handed over first, core checks and automation runs interrupted next, the database last", async () => {
    await core!.stop();
    const stopped = logs.filter((line) => line.msg === "stopping").map((line) => line.component);
    expect(stopped).toEqual([
      "satellite gateway",
      "heartbeat monitor",
      "check deadline monitor",
      "core location",
      "automation worker",
      "run change announcements",
      "run retention pruner",
      "job lease sweeper",
      "entity router",
      "event streams",
      "http",
      "change stream",
      "automation replays",
      "automation index",
      "satellite runs",
      "satellite assignments",
      "maintenance window duty",
      "check results",
      "live feed",
      "change announcements",
      "notifications",
      "database",
    ]);
  });
});
