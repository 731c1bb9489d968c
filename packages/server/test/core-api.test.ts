// The core as startCore wires it: its metrics, its API from the admin token to an automation
// run executed on its own worker, and satellites assigned checks whose results it stores.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { RoutedChange } from "../src/entities/index.ts";
import { silentLogger } from "../src/log.ts";
import { type Core, startCore } from "../src/main.ts";
import { saveCheck, satelliteCheck } from "./support/checks/check-rows.ts";
import { connectFakeSatellite } from "./support/satellites/fake-satellite.ts";
import { startHttpReceiver } from "./support/network/receivers.ts";
import { createTestDatabase } from "./support/database.ts";
import { createSignal, waitFor } from "./support/instance.ts";

const ADMIN_TOKEN = "core-api-admin-token-0123456789";
let core: Core;
let clock = Date.parse("2026-11-27T12:00:00.000Z");
const routed: RoutedChange[] = [];
const batches = createSignal();

beforeAll(async () => {
  const { url } = await createTestDatabase();
  core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl: url, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN }, silentLogger(), {
    now: () => clock,
    routerObserver: {
      onBatch: (batch) => {
        routed.push(...batch);
        batches.emit();
      },
    },
  });
});

afterAll(async () => {
  await core?.stop();
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${core.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...init.headers } });

/** The core's /metrics, as a reader of one series' value (0 when absent). */
async function scrape(): Promise<(series: string) => number> {
  const text = await (await fetch(`${core.url}/metrics`)).text();
  return (series) =>
    Number(
      text
        .split("\n")
        .find((line) => line.startsWith(`${series} `))
        ?.slice(series.length + 1) ?? 0,
    );
}

describe("the core's metrics", () => {
  it("names every metric of its own vantage_*, beside Node's standard process metrics", async () => {
    const text = await (await fetch(`${core.url}/metrics`)).text();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!);
    const ours = names.filter((name) => !/^(process|nodejs)_/.test(name));
    expect(ours.length).toBeGreaterThan(10);
    expect(ours.filter((name) => !name.startsWith("vantage_"))).toEqual([]);
  });

  it("shows labelled counters at zero before their first event, so dashboards see every series", async () => {
    const text = await (await fetch(`${core.url}/metrics`)).text();
    for (const series of [
      'vantage_admin_auth_failures_total{reason="rate_limited"}',
      'vantage_satellite_auth_failures_total{reason="hello_timeout"}',
      'vantage_satellite_bad_frames_total{code="binary_frame"}',
      'vantage_satellite_results_dropped_total{reason="sink_failed"}',
      'vantage_automation_decisions_total{outcome="skip",reason="max_runs"}',
      'vantage_automation_steps_total{status="cancelled"}',
      'vantage_automation_runs_ended_total{status="failed"}',
    ]) {
      expect(text.split("\n")).toContain(`${series} 0`);
    }
  });

  it("counts admin API requests refused for their credentials, by reason", async () => {
    const before = await scrape();
    await fetch(`${core.url}/api/v1/satellites`);
    await fetch(`${core.url}/api/v1/satellites`, { headers: { authorization: "Bearer not-the-admin-token-at-all" } });
    const after = await scrape();
    const delta = (reason: string) =>
      after(`vantage_admin_auth_failures_total{reason="${reason}"}`) - before(`vantage_admin_auth_failures_total{reason="${reason}"}`);
    expect([delta("missing"), delta("invalid"), delta("rate_limited")]).toEqual([1, 1, 0]);
  });
});

describe("the core's API, as wired by startCore", () => {
  it("refuses a request without the admin token", async () => {
    expect((await fetch(`${core.url}/api/v1/satellites`)).status).toBe(401);
  });

  it("lists the satellite and check triggers with their payload schemas", async () => {
    const response = await api("/triggers");
    expect(response.status).toBe(200);
    const body = JSON.stringify(await response.json());
    for (const event of [
      "satellite.connected",
      "satellite.disconnected",
      "satellite.heartbeat_lost",
      "check.unhealthy",
      "check.recovered",
      "check.flapping_started",
    ])
      expect(body).toContain(event);
  });

  it("serves satellites, notification channels and automations", async () => {
    expect((await api("/satellites")).status).toBe(200);
    expect((await api("/notification-channels")).status).toBe(200);
    const created = await api("/automations", {
      method: "POST",
      body: JSON.stringify({
        name: "page on loss",
        triggers: [{ event: "satellite.heartbeat_lost" }],
        actions: [{ log: { message: "{{ trigger.payload.name }} is gone" } }],
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await api("/automations")).status).toBe(200);
  });

  it("answers a channel with secrets but no shared key with what to configure", async () => {
    const response = await api("/notification-channels", {
      method: "POST",
      body: JSON.stringify({ name: "ops", type: "slack", config: { webhookUrl: "https://hooks.slack.example/T/B/x" } }),
    });
    expect(response.status).toBe(409);
    expect(JSON.stringify(await response.json())).toContain("VANTAGE_SECRET_KEY");
  });

  it("records a run for an automation saved through the API when a satellite's heartbeat is lost, lists it, and executes it on the core's worker", async () => {
    const receiver = await startHttpReceiver();
    onTestFinished(() => receiver.close());
    const created = await api("/automations", {
      method: "POST",
      body: JSON.stringify({
        name: "runs on loss",
        concurrency: "context",
        triggers: [{ event: "satellite.heartbeat_lost" }],
        actions: [{ webhook: { url: `${receiver.origin}/lost` } }],
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await core.automations.reload(); // the NOTIFY does this too; here the test need not wait for it

    const before = await scrape();
    const satelliteId = await core.satellites.create({ name: "edge-api", region: "eu-west", tokenHash: "unused" });
    await core.satellites.markConnected({ satelliteId, sessionId: randomUUID() });
    clock += 60_000;
    await core.satellites.markHeartbeatLost({ satelliteId });
    await waitFor(
      () => routed.some((r) => r.change.id === satelliteId && r.eventIds.includes("satellite.heartbeat_lost")),
      batches.subscribe,
      10_000,
      "the heartbeat loss routed",
    );

    const runs = await api(`/automations/${id}/runs?limit=10`);
    expect(runs.status).toBe(200);
    const listed = (await runs.json()) as { runs: Array<{ id: string }> };
    // The worker may already have started it: the run is pending, running or succeeded by now.
    expect(listed).toMatchObject({
      runs: [
        {
          automationId: id,
          status: expect.stringMatching(/^(pending|running|succeeded)$/),
          contextKey: satelliteId,
          trigger: { event: "satellite.heartbeat_lost", payload: { satelliteId } },
        },
      ],
    });
    await waitFor(() => receiver.requests.length > 0, receiver.subscribe, 10_000, "the run's webhook");
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers["idempotency-key"]).toBe(`${listed.runs[0]!.id}:actions.0`);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ satelliteId });
    const skips = await api(`/automations/${id}/skips`);
    expect(await skips.json()).toEqual({ skips: [], next: null });
    // The engine's counters: one run decided per automation listening (an earlier test saved another).
    const { automations } = (await (await api("/automations")).json()) as { automations: Array<{ enabled: boolean; triggers: Array<{ event: string }> }> };
    const listening = automations.filter(
      (automation) => automation.enabled && automation.triggers.some((trigger) => trigger.event === "satellite.heartbeat_lost"),
    ).length;
    const after = await scrape();
    expect(after('vantage_automation_decisions_total{outcome="run",reason=""}') - before('vantage_automation_decisions_total{outcome="run",reason=""}')).toBe(
      listening,
    );
    expect(after('vantage_automation_steps_total{status="running"}') - before('vantage_automation_steps_total{status="running"}')).toBeGreaterThanOrEqual(1);
    expect((await api(`/automations/${id}/runs?limit=0`)).status).toBe(400);
    expect((await api(`/automations/${randomUUID()}/runs`)).status).toBe(404);
  });
});

describe("the core's checks on satellites", () => {
  it("welcomes a satellite with its checks, pushes a change, and stores its results as its own location's before acknowledging them", async () => {
    const created = await api("/satellites", { method: "POST", body: JSON.stringify({ name: "edge-checks", region: "core-eu" }) });
    expect(created.status).toBe(201);
    const view = (await created.json()) as { id: string; token: string };
    const check = await saveCheck(core.database.pool, satelliteCheck("core-eu-home", { regions: ["core-eu"] }));
    const { satellite, welcome } = await connectFakeSatellite(core.url, { satelliteId: view.id, token: view.token });
    onTestFinished(() => satellite.close());
    // Saved just before: in the welcome, or pushed once its notice arrived.
    const assigned = welcome.assignments.length > 0 ? welcome.assignments : (await satellite.next("assignments")).assignments;
    expect(assigned.map((assignment) => assignment.checkId)).toEqual([check.id]);

    const sent = satellite.result(check.id, { startedAt: new Date(clock).toISOString() });
    expect((await satellite.next("ack")).resultIds).toEqual([sent.resultId]);
    const { rows } = await core.database.pool.query("SELECT check_id, location, status FROM check_results WHERE result_id = $1", [sent.resultId]);
    expect(rows).toEqual([{ check_id: check.id, location: view.id, status: "up" }]);

    await saveCheck(core.database.pool, satelliteCheck("core-eu-home", { regions: ["core-us"] }), { id: check.id });
    expect((await satellite.next("assignments")).assignments).toEqual([]);
  });
});
