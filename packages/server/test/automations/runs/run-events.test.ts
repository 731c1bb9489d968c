// Automation runs on the live stream: a run's creation and each change of its status are
// `automation-run-status` entity changes (recorded with the run's own writes), so GET /api/v1/events
// carries them live and a client that reconnects with Last-Event-ID receives the ones it missed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.ts";
import { type Core, startCore } from "../../../src/main.ts";
import { createTestDatabase } from "../../support/database.ts";
import { changesOf, openSse, type SseConnection } from "../../support/sse-client.ts";

const ADMIN_TOKEN = "run-events-admin-token-0123456789";
let core: Core;
const open: SseConnection[] = [];

beforeAll(async () => {
  const { url } = await createTestDatabase();
  core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl: url, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN }, silentLogger());
});

afterAll(async () => {
  await Promise.all(open.map((connection) => connection.close()));
  await core?.stop();
});

async function api<Body>(method: string, path: string, body?: unknown): Promise<Body> {
  const response = await fetch(`${core.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Body;
}

async function connect(options: { lastEventId?: string } = {}): Promise<SseConnection> {
  const connection = await openSse(`${core.url}/api/v1/events?kind=automation-run-status`, { ...options, token: ADMIN_TOKEN });
  open.push(connection);
  expect(connection.status).toBe(200);
  await connection.until((c) => c.events.some((event) => event.event === "ready"), "ready");
  return connection;
}

type RunChange = ReturnType<typeof changesOf>[number] & {
  prev: Record<string, unknown> | null;
  next: { status: string; triggerEvent: string; triggerChangeId?: string; error?: string } | null;
  actor: { type: string; id: string };
  changedFields: string[];
};

const runChanges = (connection: SseConnection, runId: string) => (changesOf(connection) as RunChange[]).filter((change) => change.id === runId);
const statusesOf = (connection: SseConnection, runId: string) => runChanges(connection, runId).map((change) => change.next?.status);
const ended = (runId: string) => (connection: SseConnection) => statusesOf(connection, runId).includes("succeeded");

async function createAutomation(name: string): Promise<string> {
  const automation = await api<{ id: string }>("POST", "/automations", {
    name,
    triggers: [{ event: "satellite.disconnected" }],
    actions: [{ log: { message: "ran" } }],
  });
  return automation.id;
}

const runNow = async (automationId: string) => (await api<{ run: { id: string } }>("POST", `/automations/${automationId}/run`)).run.id;

describe("automation runs on the event stream", () => {
  it("streams a run's creation, start and end live, each change's prev the one before's next", async () => {
    const automationId = await createAutomation("streamed");
    const stream = await connect();
    const runId = await runNow(automationId);
    await stream.until(ended(runId), "the run's end");

    const changes = runChanges(stream, runId);
    expect(changes.map((change) => change.next?.status)).toEqual(["pending", "running", "succeeded"]);
    expect(changes[0]!.prev).toBeNull();
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.prev).toEqual(changes[i - 1]!.next);
    // The state holds what the change rows do not: the automation is their actor, the times their occurredAt.
    expect(changes[0]!.next).toEqual({ status: "pending", triggerEvent: "manual" });
    for (const change of changes) expect(change.actor).toEqual({ type: "automation", id: automationId });
    expect(changes[1]!.changedFields).toEqual(["status"]);
    expect(changes[2]!.changedFields).toEqual(["status"]);
    // Seqs are the event ids a client resumes from, rising along the run.
    const seqs = changes.map((change) => change.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);

    // The kind's read gives the state the last change recorded.
    const run = await api<{ changes: RunChange[] }>("GET", `/entities/automation-run-status/${runId}/changes`);
    expect(run.changes.map((change) => change.next?.status)).toEqual(["succeeded", "running", "pending"]);
    const { rows } = await core.database.pool.query("SELECT vantage_automation_run_state(r) AS state FROM automation_runs r WHERE id = $1", [runId]);
    expect(rows[0].state).toEqual(changes.at(-1)!.next);
  });

  it("gives a client that reconnects with Last-Event-ID the run changes it missed, once each", async () => {
    const automationId = await createAutomation("missed");
    const first = await connect();
    const before = await runNow(automationId);
    await first.until(ended(before), "the first run's end");
    const lastEventId = first.events.filter((event) => event.id !== undefined).at(-1)!.id!;
    await first.close();

    // While no client of it is connected, another run starts and ends (a second stream sees it).
    const watcher = await connect();
    const missed = await runNow(automationId);
    await watcher.until(ended(missed), "the missed run's end");

    const resumed = await connect({ lastEventId });
    await resumed.until(ended(missed), "the missed run's end, caught up");
    expect(statusesOf(resumed, missed)).toEqual(["pending", "running", "succeeded"]);
    // Nothing from before the position it resumed after.
    expect(runChanges(resumed, before)).toEqual([]);
  });

  it("accepts the kind in the stream's filter and lists it among the entity kinds", async () => {
    const response = await fetch(`${core.url}/api/v1/events?kind=automation-run-status,check-health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(core.entities.kinds().has("automation-run-status")).toBe(true);
  });
});
