// Replaying automations over recorded history: a saved automation replayed over the period it
// was live decides exactly what the router really decided (runs and skips, with their
// verdicts), a stricter draft turns runs into filter_false skips, and a replay writes nothing
// but its own job. The router's clock is scripted: each routed change is stamped with the
// step's time (in the router's transaction), so `for:`, time windows and modes see a timeline.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayCommand } from "../../../src/automations/cli/replay-command.ts";
import { startHttpServer } from "../../../src/http/index.ts";
import { startAutomations, type AutomationsModule } from "../../../src/automations/index.ts";
import { createTimerFiring } from "../../../src/automations/routing/trigger-timers.ts";
import type { ReplayJobView } from "../../../src/automations/replay/replay-jobs.ts";
import type { ChangeSink, RoutedChange } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { startNotifications } from "../../../src/notifications/index.ts";
import { startSatellites, type SatellitesModule } from "../../../src/satellites/index.ts";
import { type Answer, callApi, createModulesApp, TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";
import { testModuleDeps, type TestModuleDeps } from "../../support/module-deps.ts";

const day = "2026-11-20";
const at = (time: string) => Date.parse(`${day}T${time}:00.000Z`);

let instance: TestInstance;
let moduleDeps: TestModuleDeps;
let satellites: SatellitesModule;
let automations: AutomationsModule;
let app: Awaited<ReturnType<typeof createModulesApp>>;
let receiver: Server;
let received = 0;
let clock = at("06:00");
let routedSeq = 0;
const routed = createSignal();

const call = <Body = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Answer<Body>> =>
  callApi<Body>(app, method, `/api/v1${path}`, body);

/** Stamps each routed change with the scripted clock, in the outbox too, before the automation sink judges it. */
const scripted = (sink: ChangeSink): ChangeSink => ({
  name: sink.name,
  async deliver(batch: readonly RoutedChange[], tx) {
    const stamp = new Date(clock).toISOString();
    for (const { change } of batch) change.occurredAt = stamp;
    await tx.query("UPDATE entity_changes SET occurred_at = $1 WHERE seq = ANY($2::bigint[])", [stamp, batch.map(({ change }) => change.seq)]);
    await sink.deliver(batch, tx);
  },
});

/** Runs `step` at the scripted `time` and waits until the router decided its changes. */
async function step(time: string, work: () => Promise<unknown>): Promise<void> {
  clock = at(time);
  await work();
  const { rows } = await instance.pool.query<{ seq: string | null }>("SELECT max(seq) AS seq FROM entity_changes");
  const last = Number(rows[0]!.seq ?? 0);
  await waitFor(() => routedSeq >= last, routed.subscribe, 10_000, `the changes of ${time} routed`);
}

/** Fires every `for:` timer due by now, as the worker would at its due time. */
async function fireDueTimers(): Promise<number> {
  const { rows } = await instance.pool.query<{ id: string }>("SELECT id FROM automation_trigger_timers WHERE due_at <= $1 ORDER BY due_at", [new Date(clock)]);
  const fire = createTimerFiring({
    pool: instance.pool,
    index: automations.index,
    triggers: moduleDeps.deps.triggers,
    entities: instance.entities,
    logger: silentLogger(),
    now: () => clock,
  });
  for (const row of rows) await fire(row.id);
  return rows.length;
}

const satellite = async (name: string, region: string) => satellites.service.create({ name, region, tokenHash: randomUUID() });
const connect = (satelliteId: string) =>
  satellites.service.markConnected({ satelliteId, sessionId: sessions.set(satelliteId, randomUUID()).get(satelliteId)! });
const disconnect = (satelliteId: string) => satellites.service.markDisconnected({ satelliteId, sessionId: sessions.get(satelliteId)! });
const loseHeartbeat = (satelliteId: string) => satellites.service.markHeartbeatLost({ satelliteId });
const sessions = new Map<string, string>();

let canary: string;
let s1: string;
let s2: string;
let s3: string;
let definition: Record<string, unknown>;
let automationId: string;

const COUNTED = ["automation_runs", "automation_skips", "automation_run_steps", "automation_trigger_timers", "graphile_worker._private_jobs", "entity_changes"];
const rowCounts = async () =>
  Object.fromEntries(
    await Promise.all(COUNTED.map(async (table) => [table, (await instance.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n])),
  );

async function replay(body: Record<string, unknown>): Promise<NonNullable<ReplayJobView["result"]>> {
  const started = await call<ReplayJobView>("POST", "/automations/replay", body);
  expect(started.status, started.text).toBe(202);
  await automations.replays.idle();
  const done = await call<ReplayJobView>("GET", `/automations/replay/${started.body.id}`);
  expect(done.body.status, done.text).toBe("succeeded");
  return done.body.result!;
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    received += 1;
    request.resume();
    response.end("ok");
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "replay", {
    observer: {
      onBatch: (batch) => {
        routedSeq = Math.max(routedSeq, ...batch.map(({ change }) => change.seq));
        routed.emit();
      },
    },
  });
  const router = instance.router;
  moduleDeps = testModuleDeps(instance, { now: () => clock, router: { ...router, addSink: (sink) => router.addSink(scripted(sink)) } });
  satellites = await startSatellites(moduleDeps.deps);
  const notifications = await startNotifications(moduleDeps.deps, { deliveryTimeoutMs: 1_000 });
  automations = await startAutomations(moduleDeps.deps, { notifications });
  app = await createModulesApp(instance.pool, [satellites, notifications, automations], { now: () => clock });
  router.start();

  canary = await satellite("canary", "eu-west");
  s1 = await satellite("edge-1", "eu-west");
  s2 = await satellite("edge-2", "eu-west");
  s3 = await satellite("edge-3", "us-east");
  const notCanary = { compare: { left: "trigger.payload.name", op: "!=", right: { value: "canary" } } };
  definition = {
    name: "edge down",
    mode: "single",
    triggers: [
      { id: "lost", event: "satellite.heartbeat_lost", filter: notCanary },
      { id: "gone", event: "satellite.disconnected", filter: notCanary, for: "10m" },
    ],
    conditions: [
      // lastEvent, not status: presence is computed on read, so a stored status ages by itself.
      { compare: { left: `entity('satellite-connection', '${canary}').lastEvent`, op: "==", right: { value: "connected" } } },
      { time: { after: "08:00", before: "18:00" } },
    ],
    actions: [
      { delay: { duration: "30m" } },
      {
        webhook: {
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
          secret: "s3cret-signing-key",
          body: { text: "{{ trigger.payload.name }} is down" },
        },
      },
    ],
  };
  const saved = await call<{ id: string }>("POST", "/automations", definition);
  expect(saved.status, saved.text).toBe(201);
  automationId = saved.body.id;
  await automations.index.reload(); // the save's NOTIFY reloads it too; this waits for a load that saw it

  // The live period, as the router really decided it.
  await step("07:00", () => Promise.all([canary, s1, s2, s3].map(connect)));
  await step("07:30", () => loseHeartbeat(s1)); // before the time window: condition 2 false
  await step("08:10", () => disconnect(canary)); // the canary's own events are filtered out
  await step("08:20", () => loseHeartbeat(s2)); // the canary is offline: condition 1 false
  await step("08:30", () => connect(canary));
  await step("08:40", () => disconnect(s3)); // `for: 10m` starts counting
  await step("08:45", () => connect(s2));
  clock = at("08:50");
  expect(await fireDueTimers()).toBe(1); // s3 stayed down 10 minutes: the run (its delay holds it active)
  await step("08:55", () => connect(s1));
  await step("08:56", () => disconnect(s1));
  await step("09:00", () => connect(s1)); // s1 came back within its 10 minutes: for_cancelled
  await step("09:02", () => connect(s3));
  await step("09:05", () => loseHeartbeat(s3)); // mode single: the 08:50 run is still active, busy
  clock = at("09:10");
}, 60_000);

afterAll(async () => {
  await moduleDeps?.stop();
  await instance?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const realDecisions = async () => {
  const runs = await instance.pool.query<{ change_id: string; trigger_id: string; verdicts: unknown }>(
    "SELECT change_id, trigger_id, verdicts FROM automation_runs WHERE automation_id = $1",
    [automationId],
  );
  const skips = await instance.pool.query<{ change_id: string; trigger_id: string; reason: string; verdicts: unknown }>(
    "SELECT change_id, trigger_id, reason, verdicts FROM automation_skips WHERE automation_id = $1",
    [automationId],
  );
  return {
    runs: runs.rows.map((row) => ({ changeId: row.change_id, trigger: row.trigger_id, verdicts: row.verdicts })).sort(byChange),
    skips: skips.rows.map((row) => ({ changeId: row.change_id, trigger: row.trigger_id, reason: row.reason, verdicts: row.verdicts })).sort(byChange),
  };
};
const byChange = (a: { changeId: string; trigger: string }, b: { changeId: string; trigger: string }) =>
  `${a.changeId}${a.trigger}`.localeCompare(`${b.changeId}${b.trigger}`);

describe("replaying an automation", () => {
  it("decides exactly the runs and skips the router recorded while it was live, and writes nothing but its job", async () => {
    const real = await realDecisions();
    expect(real.runs).toHaveLength(1);
    expect(real.skips.map((skip) => skip.reason).sort()).toEqual(["busy", "condition_false", "condition_false", "filter_false", "for_cancelled"]);
    const before = await rowCounts();

    const result = await replay({ automationId, from: `${day}T06:30:00Z`, to: `${day}T09:10:00Z` });

    expect(result.listedRuns.map((run) => ({ changeId: run.changeId, trigger: run.trigger.id, verdicts: run.verdicts })).sort(byChange)).toEqual(real.runs);
    expect(
      result.listedSkips.map((skip) => ({ changeId: skip.changeId, trigger: skip.trigger.id, reason: skip.reason, verdicts: skip.verdicts })).sort(byChange),
    ).toEqual(real.skips);
    expect(result.days).toEqual([{ day, runs: 1, skips: 5 }]);
    expect(result.gaps).toEqual([{ from: `${day}T06:30:00.000Z`, to: `${day}T07:00:00.000Z`, reason: "before_retention" }]);
    // The run's actions, on the virtual clock, rendered and never sent: the secret masked.
    const [run] = result.listedRuns;
    expect(run).toMatchObject({ at: `${day}T08:50:00.000Z`, status: "succeeded", endedAt: `${day}T09:20:00.000Z` });
    expect(run!.steps.map((taken) => [taken.kind, taken.at])).toEqual([
      ["delay", `${day}T08:50:00.000Z`],
      ["webhook", `${day}T09:20:00.000Z`],
    ]);
    expect(run!.steps[1]!.input).toMatchObject({ body: { text: "edge-3 is down" }, secret: "<redacted>" });
    expect(JSON.stringify(result)).not.toContain("s3cret-signing-key");

    expect(await rowCounts()).toEqual(before);
    expect(received).toBe(0);
  });

  it("shows each run a stricter draft filter removes as filter_false", async () => {
    const euOnly = { compare: { left: "trigger.payload.region", op: "==", right: { value: "eu-west" } } };
    const draft = structuredClone(definition) as { triggers: Array<{ filter: unknown }> };
    for (const trigger of draft.triggers) trigger.filter = { and: [trigger.filter, euOnly] };

    const result = await replay({ definition: draft, from: `${day}T07:00:00Z`, to: `${day}T09:10:00Z` });

    const real = await realDecisions();
    expect(result.runs).toBe(0);
    const filteredBefore = new Set(real.skips.filter((skip) => skip.reason === "filter_false").map((skip) => skip.changeId));
    const filtered = result.listedSkips.filter((skip) => skip.reason === "filter_false" && !filteredBefore.has(skip.changeId)).map((skip) => skip.changeId);
    // s3's disconnect (the real run) and its heartbeat loss (the real busy skip) are filtered out now.
    expect(filtered.sort()).toEqual([real.runs[0]!.changeId, real.skips.find((skip) => skip.reason === "busy")!.changeId].sort());
    expect(result.skipsByReason).toEqual({ filter_false: 3, condition_false: 2, for_cancelled: 1 });
  });

  it("queues runs and waits on the virtual clock: a wait_until is satisfied by a later recorded change, or times out", async () => {
    const notCanary = { compare: { left: "trigger.payload.name", op: "!=", right: { value: "canary" } } };
    const range = { from: `${day}T06:30:00Z`, to: `${day}T09:10:00Z` };
    const queued = await replay({
      ...range,
      definition: {
        name: "queued",
        mode: "queued",
        maxRuns: 2,
        triggers: [{ event: "satellite.connected", filter: notCanary }],
        actions: [{ delay: { duration: "20m" } }],
      },
    });
    // 07:00 three connect at once: one runs, one queues (its turn at 07:20), one is over maxRuns; later 08:45 runs, 08:55 queues, 09:00 and 09:02 are over.
    expect(queued.listedRuns.map((run) => [run.at.slice(11, 16), run.startedAt?.slice(11, 16)])).toEqual([
      ["07:00", "07:00"],
      ["07:00", "07:20"],
      ["08:45", "08:45"],
      ["08:55", "09:05"],
    ]);
    expect(queued.skipsByReason).toEqual({ max_runs: 3, filter_false: 2 }); // and the canary's two connects

    const waiting = await replay({
      ...range,
      definition: {
        name: "back soon",
        mode: "parallel",
        triggers: [{ event: "satellite.heartbeat_lost" }],
        actions: [
          {
            wait_until: {
              condition: {
                compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).lastEvent", op: "==", right: { value: "connected" } },
              },
              timeout: "30m",
            },
          },
          { log: { message: "{{ trigger.payload.name }} is back" } },
        ],
      },
    });
    expect(waiting.listedRuns.map((run) => [run.at.slice(11, 16), run.status, run.endedAt?.slice(11, 16) ?? null])).toEqual([
      ["07:30", "failed", "08:00"], // s1 came back only at 08:55
      ["08:20", "succeeded", "08:45"], // s2 came back at 08:45
      ["09:05", "waiting", null], // s3 had not come back when the range ended
    ]);
    expect(waiting.listedRuns[1]!.steps.map((taken) => [taken.kind, taken.input])).toEqual([
      ["wait_until", { timeoutMs: 1_800_000, continueOnTimeout: false }],
      ["log", { message: "edge-2 is back" }],
    ]);
  });

  it("vantage replay prints a summary and a per-day histogram", async () => {
    const server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
    const dir = await mkdtemp(join(tmpdir(), "vantage-replay-"));
    try {
      const file = join(dir, "automation.json");
      await writeFile(file, JSON.stringify(definition));
      let out = "";
      let err = "";
      const io = { out: (text: string) => void (out += text), err: (text: string) => void (err += text), isTTY: true, now: () => at("09:10"), pollMs: 5 };
      const code = await replayCommand({ url: server.url, token: TEST_ADMIN_TOKEN, file, since: "3h" }, io);
      expect({ code, err: err.split("\r").at(-1) }).toEqual({ code: 0, err: "[##############################] 100 % · 15 changes\n" });
      expect(out).toContain('Replay of "edge down" from 2026-11-20T06:10:00.000Z to 2026-11-20T09:10:00.000Z: 15 changes read');
      expect(out).toContain("would have run 1 time(s); skipped 5 (");
      expect(out).toMatch(/2026-11-20 {5}1 {6}5 {2}#+\.+/);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("vantage replay takes an automation of a config bundle, picked by --name when it holds several", async () => {
    const server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
    const dir = await mkdtemp(join(tmpdir(), "vantage-replay-"));
    try {
      const { name, ...spec } = definition;
      const other = { kind: "Automation", name: "other", spec: { triggers: [{ event: "satellite.connected" }], actions: [{ log: { message: "up" } }] } };
      const file = join(dir, "bundle.yaml");
      await writeFile(
        file,
        [{ kind: "Satellite", name: "edge", spec: { region: "eu" } }, { kind: "Automation", name, spec }, other]
          .map((doc) => JSON.stringify(doc))
          .join("\n---\n"),
      );
      const run = async (flags: { name?: string }) => {
        const ran = { out: "", err: "" };
        const io = {
          out: (text: string) => void (ran.out += text),
          err: (text: string) => void (ran.err += text),
          isTTY: false,
          now: () => at("09:10"),
          pollMs: 5,
        };
        const code = await replayCommand({ url: server.url, token: TEST_ADMIN_TOKEN, file, since: "3h", ...flags }, io).catch((error: Error) => {
          ran.err += error.message;
          return 1;
        });
        return { code, ...ran };
      };
      expect(await run({})).toMatchObject({ code: 1, err: `${file} is a config bundle that holds 2 automations ("edge down", "other"): pick one with --name` });
      expect(await run({ name: "gone" })).toMatchObject({ code: 1, err: expect.stringContaining('holds no automation named "gone"') });
      // --name belongs to a bundle: on one definition it is a mistake, not ignored.
      const single = join(dir, "single.json");
      await writeFile(single, JSON.stringify(definition));
      const ran = { err: "" };
      const io = { out: () => undefined, err: () => undefined, isTTY: false, now: () => at("09:10"), pollMs: 5 };
      await replayCommand({ url: server.url, token: TEST_ADMIN_TOKEN, file: single, since: "3h", name: "edge down" }, io).catch((error: Error) => {
        ran.err = error.message;
      });
      expect(ran.err).toBe(`--name "edge down": ${single} is one definition, not a config bundle; drop --name`);
      // The same replay as of the definition file itself.
      const picked = await run({ name: "edge down" });
      expect(picked.code, picked.err).toBe(0);
      expect(picked.out).toContain('Replay of "edge down" from 2026-11-20T06:10:00.000Z to 2026-11-20T09:10:00.000Z: 15 changes read');
      expect(picked.out).toContain("would have run 1 time(s); skipped 5 (");
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a second running replay of the same caller, cancels one, and checks the range", async () => {
    // A replay of the admin token's still running (inserted as its job row would be).
    const { rows } = await instance.pool.query<{ id: string }>("INSERT INTO automation_replays (owner, request) VALUES ('token:admin', '{}') RETURNING id");
    const body = { definition, from: `${day}T07:00:00Z`, to: `${day}T09:10:00Z` };
    const second = await call<{ error: { code: string } }>("POST", "/automations/replay", body);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("replay_running");
    const cancelled = await call<ReplayJobView>("POST", `/automations/replay/${rows[0]!.id}/cancel`);
    expect(cancelled.body.status).toBe("cancelled");
    expect((await call<{ error: { code: string } }>("POST", `/automations/replay/${rows[0]!.id}/cancel`)).body.error.code).toBe("replay_not_running");
    expect((await call("GET", `/automations/replay/${randomUUID()}`)).status).toBe(404);
    const backwards = await call<{ error: { code: string } }>("POST", "/automations/replay", { ...body, from: `${day}T09:00:00Z`, to: `${day}T08:00:00Z` });
    expect(backwards.body.error.code).toBe("invalid_replay_range");
    const both = await call<{ error: { code: string } }>("POST", "/automations/replay", { ...body, automationId });
    expect(both.status).toBe(400);
  });
});
