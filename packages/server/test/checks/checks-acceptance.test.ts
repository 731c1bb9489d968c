// Issue #11's acceptance with real processes: one `vantage server` and two real `vantage-satellite`
// agents (regions eu and us, eu behind a TCP proxy) on one PostgreSQL, all on 127.0.0.1. Checks are
// made through the API and read back through it: a stopped target reads down with its assertion's
// expected and actual; a cut connection loses and doubles nothing and its late minutes are rolled up
// again; moving a check from eu to us moves it without a reconnect; results of checks a satellite
// was not given are refused, counted and not stored; bad definitions are 400 at their path.
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.ts";
import { createPool } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { connectFakeSatellite } from "../support/satellites/fake-satellite.ts";
import { waitFor } from "../support/instance.ts";
import { pollUntil } from "../support/poll.ts";
import { runVantage, startVantageServer, type VantageProcess } from "../support/process.ts";
import { type HttpReceiver, startHttpReceiver } from "../support/network/receivers.ts";
import { startTcpProxy, type TcpProxy } from "../support/network/tcp-proxy.ts";

const SATELLITE_BIN = fileURLToPath(new URL("../../../satellite/bin/vantage-satellite.js", import.meta.url));
const ADMIN_TOKEN = "checks-acceptance-admin-token";
/** The shortest interval a check may have: every wait below is a few of these at most. */
const INTERVAL_MS = 10_000;
/** How long a process may take to start on a busy machine. */
const START_TIMEOUT_MS = 90_000;
const MINUTE_MS = 60_000;

interface Satellite {
  id: string;
  token: string;
  agent: VantageProcess;
}

interface StoredResult {
  resultId: string;
  location: string;
  startedAt: string;
  status: string;
  errorCode: string | null;
  detail: { assertions?: Array<Record<string, unknown>>; error?: { code: string } };
}

interface LocationStats {
  location: string;
  counts: { total: number; up: number; degraded: number; down: number; error: number };
  series: Array<{ at: string; total: number }>;
}

let pool: pg.Pool;
let core: VantageProcess;
let coreUrl: string;
/** Between the eu agent and the core: the test cuts it. */
let proxy: TcpProxy;
let eu: Satellite;
let us: Satellite;
const receivers: HttpReceiver[] = [];

beforeAll(async () => {
  const databaseUrl = (await createTestDatabase()).url;
  pool = createPool(databaseUrl, silentLogger(), { max: 2 });
  ({ server: core, url: coreUrl } = await startVantageServer(
    ["--port", "0"],
    { DATABASE_URL: databaseUrl, VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN, VANTAGE_SECRET_KEY: randomBytes(32).toString("hex"), VANTAGE_HEARTBEAT_INTERVAL_MS: "1000" },
    {},
    START_TIMEOUT_MS,
  ));
  proxy = await startTcpProxy(coreUrl);
  [eu, us] = await Promise.all([startSatellite("edge-eu", "eu", proxy.url), startSatellite("edge-us", "us", coreUrl)]);
}, 2 * START_TIMEOUT_MS);

afterAll(async () => {
  for (const satellite of [eu, us]) satellite?.agent.child.kill("SIGTERM");
  await Promise.all([eu, us].map((satellite) => satellite?.agent.exited));
  await proxy?.close();
  if (core) {
    core.child.kill("SIGTERM");
    await core.exited;
  }
  await Promise.all(receivers.map((receiver) => receiver.close().catch(() => undefined)));
  await pool?.end();
}, 60_000);

async function api<Body = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${coreUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as Body };
}

/** Registers a satellite through the API and starts the real agent for it (debug logs: acks and assignments). */
async function startSatellite(name: string, region: string, url: string): Promise<Satellite> {
  const created = await api<{ id: string; token: string }>("POST", "/satellites", { name, region });
  expect(created.status).toBe(201);
  const agent = runVantage(["--url", url, "--id", created.body.id, "--token", created.body.token, "--log-level", "debug"], {}, { bin: SATELLITE_BIN });
  await agent.waitForLog((line) => line.msg === "connected to the core", START_TIMEOUT_MS);
  return { id: created.body.id, token: created.body.token, agent };
}

async function startReceiver(): Promise<HttpReceiver> {
  const receiver = await startHttpReceiver();
  receivers.push(receiver);
  return receiver;
}

let named = 0;
/** Creates an http check through the API: every 10 s, on the satellites selected, never on the core. */
async function createCheck(url: string, satellites: Record<string, string[]>, extra: Record<string, unknown> = {}): Promise<string> {
  named += 1;
  const created = await api<{ id: string }>("POST", "/checks", {
    name: `acceptance-${named}`,
    type: "http",
    url,
    intervalSeconds: INTERVAL_MS / 1000,
    timeoutMs: 2_000,
    runOn: { core: false, satellites },
    ...extra,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

/** Every stored result of a check, oldest first, through GET /checks/:id/results. */
async function resultsOf(checkId: string, query = ""): Promise<StoredResult[]> {
  const answer = await api<{ results: StoredResult[]; next: string | null }>("GET", `/checks/${checkId}/results?limit=500${query}`);
  expect(answer.status).toBe(200);
  expect(answer.body.next).toBeNull();
  return answer.body.results.reverse();
}

async function statsOf(checkId: string, from: number): Promise<LocationStats[]> {
  const query = `from=${new Date(from).toISOString()}&to=${new Date(Date.now() + MINUTE_MS).toISOString()}`;
  const answer = await api<{ level: string; locations: LocationStats[] }>("GET", `/checks/${checkId}/stats?${query}`);
  expect(answer.status).toBe(200);
  expect(answer.body.level).toBe("1m");
  return answer.body.locations;
}

/** Resolves once the receiver has had `count` requests. */
const hitsReach = (receiver: HttpReceiver, count: number, timeoutMs = 3 * INTERVAL_MS) =>
  waitFor(() => receiver.requests.length >= count, receiver.subscribe, timeoutMs, `${count} requests to the target`);

/** The agent's log lines from index `from` on that match. */
const linesOf = (agent: VantageProcess, message: string, from = 0) => agent.logs.slice(from).filter((line) => line.msg === message);
const connectsOf = (satellite: Satellite) => linesOf(satellite.agent, "connected to the core").length;
const minuteOf = (at: string | number) => Math.floor(new Date(at).getTime() / MINUTE_MS);

async function sessionOf(satelliteId: string): Promise<string | null> {
  const { rows } = await pool.query<{ session_id: string | null }>("SELECT session_id FROM satellites WHERE id = $1", [satelliteId]);
  return rows[0]!.session_id;
}

/** A counter of the core's /metrics; `labels` as Prometheus prints them (`reason="unassigned"`). */
async function metricValue(name: string, labels?: string): Promise<number> {
  const text = await (await fetch(`${coreUrl}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(labels === undefined ? `${name} ` : `${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("a real agent running an http check", () => {
  it("reads up while the target answers, and down with the failing assertion's expected and actual once the target stops", { timeout: 120_000 }, async () => {
    const target = await startReceiver();
    const checkId = await createCheck(`${target.origin}/health`, { ids: [us.id] }, { assertions: [{ subject: "status", op: "eq", value: 200 }] });

    const [up] = await pollUntil(
      () => resultsOf(checkId),
      (results) => results.length > 0,
      3 * INTERVAL_MS,
      "the first result",
    );
    expect(up).toMatchObject({ location: us.id, status: "up", errorCode: null });
    expect(up!.detail.assertions).toEqual([expect.objectContaining({ subject: "status", op: "eq", expected: 200, actual: 200, pass: true })]);

    await target.close();
    // (A run in flight as the target closed may read connection_reset instead.)
    const refused = (results: StoredResult[]) => results.filter((result) => result.errorCode === "connection_refused");
    const [down] = refused(
      await pollUntil(
        () => resultsOf(checkId, "&status=down"),
        (results) => refused(results).length > 0,
        3 * INTERVAL_MS,
        "a refused run",
      ),
    );
    expect(down).toMatchObject({ location: us.id, status: "down", errorCode: "connection_refused", detail: { error: { code: "connection_refused" } } });
    const [verdict] = down!.detail.assertions!;
    expect(verdict).toMatchObject({ path: "assertions[0]", subject: "status", op: "eq", expected: 200, pass: false });
    // No answer, so no status was seen: the protocol leaves `actual` out when the subject is absent.
    expect(verdict).not.toHaveProperty("actual");
    expect((await api("DELETE", `/checks/${checkId}`)).status).toBe(204);
  });
});

describe("an agent cut off from the core while it checks", () => {
  it("stores every result once when it is back, and the minute it ran in is rolled up again", { timeout: 180_000 }, async () => {
    const target = await startReceiver();
    const checkId = await createCheck(`${target.origin}/cut`, { ids: [eu.id] });
    const since = Date.now() - MINUTE_MS;

    // First a link that goes quiet one way as a run ends: the core stores the result but its ack
    // never arrives, so the agent finds the link dead, reconnects and sends the result again.
    const duplicatesBefore = await metricValue("vantage_satellite_results_duplicate_total");
    const logsBeforeSilence = eu.agent.logs.length;
    await hitsReach(target, target.requests.length + 1);
    // Still in the turn of the request: no byte of the core's ack can have passed the proxy yet.
    proxy.silenceReplies();
    const resent = await eu.agent.waitForLog(
      (line) => line.msg === "connected to the core" && eu.agent.logs.indexOf(line) >= logsBeforeSilence,
      4 * INTERVAL_MS,
    );
    expect(resent.resending).toBeGreaterThanOrEqual(1);
    await pollUntil(
      () => metricValue("vantage_satellite_results_duplicate_total"),
      (value) => value > duplicatesBefore,
      INTERVAL_MS,
      "the resend to be recognised",
    );
    expect(await resultsOf(checkId)).toHaveLength(target.requests.length);
    // The agent marked it as a resend: its batch skipped stored results at once, none was redone.
    expect(await metricValue("vantage_check_result_ingest_unmarked_resend_batches_total")).toBe(0);

    // Then a cut, right after a run is stored and early enough in its minute that the next run
    // (one interval later) falls in the same minute: the late result must change that minute's rollup.
    let stored: StoredResult;
    let hitsBeforeCut: number;
    for (;;) {
      await hitsReach(target, target.requests.length + 1);
      hitsBeforeCut = target.requests.length;
      const results = await pollUntil(
        () => resultsOf(checkId),
        (found) => found.length >= hitsBeforeCut,
        2 * INTERVAL_MS,
        "the run's result",
      );
      stored = results.at(-1)!;
      if (new Date(stored.startedAt).getTime() % MINUTE_MS <= MINUTE_MS - INTERVAL_MS - 8_000) break;
    }
    const logsBeforeCut = eu.agent.logs.length;
    proxy.cut();
    // The next run had not started yet: it is the one made while cut off.
    expect(target.requests.length).toBe(hitsBeforeCut);

    // Meanwhile the core's rollup worker (every 2 s) rolls up the minute without it.
    const minute = minuteOf(stored.startedAt);
    const rolledUp = await pollUntil(
      () => statsOf(checkId, since),
      (locations) => locations[0]?.counts.total === hitsBeforeCut,
      2 * INTERVAL_MS,
      "the rollups to hold every stored result",
    );
    const minuteBefore = rolledUp[0]!.series.find((point) => minuteOf(point.at) === minute)!.total;
    expect(minuteBefore).toBeGreaterThan(0);

    await hitsReach(target, hitsBeforeCut + 1);
    const late = target.requests.at(-1)!;
    expect(minuteOf(late.receivedAt)).toBe(minute);
    // Not stored while cut off: the agent holds it.
    expect((await resultsOf(checkId)).length).toBe(hitsBeforeCut);
    proxy.restore();

    const back = await eu.agent.waitForLog((line) => line.msg === "connected to the core" && eu.agent.logs.indexOf(line) >= logsBeforeCut, 4 * INTERVAL_MS);
    expect(back.resending).toBeGreaterThanOrEqual(1);
    const hits = target.requests.length;
    const results = await pollUntil(
      () => resultsOf(checkId),
      (found) => found.length >= hits,
      2 * INTERVAL_MS,
      "every run's result",
    );

    // Exactly once: as many results as runs that hit the target (up to the last counted one;
    // a later run is at least most of an interval later), each id once.
    const lastCounted = target.requests[hits - 1]!.receivedAt;
    const counted = results.filter((result) => new Date(result.startedAt).getTime() <= lastCounted + INTERVAL_MS / 2);
    expect(counted).toHaveLength(hits);
    expect(new Set(results.map((result) => result.resultId)).size).toBe(results.length);
    expect(results.every((result) => result.location === eu.id && result.status === "up")).toBe(true);

    // The rollup worker (every 2 s) corrects the late minute: stats agree with the raw rows.
    const corrected = await pollUntil(
      async () => ({ stats: await statsOf(checkId, since), raw: await resultsOf(checkId) }),
      ({ stats, raw }) => stats[0]?.counts.total === raw.length,
      4 * INTERVAL_MS,
      "the rollups to hold the late result",
    );
    const rawInMinute = corrected.raw.filter((result) => minuteOf(result.startedAt) === minute).length;
    expect(corrected.stats[0]!.counts).toMatchObject({ total: corrected.raw.length, up: corrected.raw.length });
    expect(corrected.stats[0]!.series.find((point) => minuteOf(point.at) === minute)!.total).toBe(rawInMinute);
    expect(rawInMinute).toBeGreaterThan(minuteBefore);
    // The same pass rebuilt the hour and the day from the minutes.
    for (const level of ["1h", "1d"]) {
      const { rows } = await pool.query<{ total: number }>(`SELECT coalesce(sum(total), 0)::int AS total FROM check_rollups_${level} WHERE check_id = $1`, [
        checkId,
      ]);
      expect(rows[0]!.total, level).toBe(corrected.raw.length);
    }
    expect((await api("DELETE", `/checks/${checkId}`)).status).toBe(204);
  });
});

describe("moving a check from region eu to region us", () => {
  it("the eu agent drops it and the us agent starts it, neither reconnecting", { timeout: 120_000 }, async () => {
    const target = await startReceiver();
    const [euConnects, usConnects] = [connectsOf(eu), connectsOf(us)];
    const [euSession, usSession] = [await sessionOf(eu.id), await sessionOf(us.id)];
    const [euLogs, usLogs] = [eu.agent.logs.length, us.agent.logs.length];

    const checkId = await createCheck(`${target.origin}/moving`, { regions: ["eu"] });
    await eu.agent.waitForLog((line) => line.msg === "assignments changed" && line.added === 1 && eu.agent.logs.indexOf(line) >= euLogs, 2 * INTERVAL_MS);
    await pollUntil(
      () => resultsOf(checkId),
      (results) => results.length > 0,
      3 * INTERVAL_MS,
      "a result from eu",
    );

    const [euMoved, usMoved] = [eu.agent.logs.length, us.agent.logs.length];
    const patchedAt = Date.now();
    const patched = await api<{ runOn: unknown }>("PATCH", `/checks/${checkId}`, { runOn: { satellites: { regions: ["us"] } } });
    expect(patched.status).toBe(200);
    expect(patched.body.runOn).toEqual({ core: false, satellites: { regions: ["us"] } });
    const dropped = await eu.agent.waitForLog(
      (line) => line.msg === "assignments changed" && line.removed === 1 && eu.agent.logs.indexOf(line) >= euMoved,
      2 * INTERVAL_MS,
    );
    await us.agent.waitForLog((line) => line.msg === "assignments changed" && line.added === 1 && us.agent.logs.indexOf(line) >= usMoved, 2 * INTERVAL_MS);
    const results = await pollUntil(
      () => resultsOf(checkId),
      (found) => found.some((result) => result.location === us.id),
      3 * INTERVAL_MS,
      "a result from us",
    );

    // eu ran it only until it dropped it (a run in flight then is discarded); us only once moved.
    const droppedAt = Number(dropped.time);
    expect(results.filter((result) => result.location === eu.id).every((result) => Date.parse(result.startedAt) < droppedAt)).toBe(true);
    expect(results.filter((result) => result.location === us.id).every((result) => Date.parse(result.startedAt) >= patchedAt)).toBe(true);
    expect(results.every((result) => result.location === eu.id || result.location === us.id)).toBe(true);
    // Without reconnecting: the same sessions, no new connects, no disconnect logged.
    expect([connectsOf(eu), connectsOf(us)]).toEqual([euConnects, usConnects]);
    expect([await sessionOf(eu.id), await sessionOf(us.id)]).toEqual([euSession, usSession]);
    expect(linesOf(eu.agent, "reconnecting", euLogs).length + linesOf(us.agent, "reconnecting", usLogs).length).toBe(0);
    expect(eu.agent.logs.slice(euLogs).some((line) => String(line.msg).startsWith("disconnected from the core"))).toBe(false);
    expect(us.agent.logs.slice(usLogs).some((line) => String(line.msg).startsWith("disconnected from the core"))).toBe(false);
    expect((await api("DELETE", `/checks/${checkId}`)).status).toBe(204);
  });
});

describe("a satellite sending results of a check it was not given", () => {
  it("is refused with unassigned_check, counted, and nothing is stored", { timeout: 60_000 }, async () => {
    const target = await startReceiver();
    const theirs = await createCheck(`${target.origin}/theirs`, { ids: [us.id] }, { enabled: false });
    const created = await api<{ id: string; token: string }>("POST", "/satellites", { name: "edge-intruder", region: "eu" });
    const { satellite, welcome } = await connectFakeSatellite(coreUrl, { satelliteId: created.body.id, token: created.body.token });
    expect(welcome.assignments).toEqual([]);
    const droppedBefore = await metricValue("vantage_satellite_results_dropped_total", 'reason="unassigned"');
    const badBefore = await metricValue("vantage_satellite_bad_frames_total", 'code="unassigned_check"');

    const sent = satellite.result(theirs, { startedAt: new Date().toISOString() });
    expect(await satellite.next("error")).toMatchObject({ code: "unassigned_check", message: expect.stringContaining(sent.resultId) });
    expect(await metricValue("vantage_satellite_results_dropped_total", 'reason="unassigned"')).toBe(droppedBefore + 1);
    expect(await metricValue("vantage_satellite_bad_frames_total", 'code="unassigned_check"')).toBe(badBefore + 1);
    expect(satellite.received.some((frame) => frame.type === "ack")).toBe(false);
    expect(await resultsOf(theirs)).toEqual([]);
    const { rows } = await pool.query("SELECT 1 FROM check_results WHERE result_id = $1", [sent.resultId]);
    expect(rows).toEqual([]);
    await satellite.close();
  });
});

describe("bad definitions sent to the core process", () => {
  const cases = [
    { what: "an invalid definition", body: { type: "http", intervalSeconds: 5 }, paths: ["url", "intervalSeconds"] },
    { what: "an unknown type", body: { type: "ftp", url: "ftp://127.0.0.1/" }, paths: ["type"] },
    {
      what: "an assertion on a subject the type does not have",
      body: {
        type: "dns",
        queryName: "example.com",
        assertions: [
          {
            op: "or",
            of: [
              { subject: "rcode", op: "eq", value: "NOERROR" },
              { op: "not", of: { subject: "body", op: "contains", value: "x" } },
            ],
          },
        ],
      },
      paths: ["assertions.0.of.1.of.subject"],
    },
    {
      what: "an over-long regex",
      body: { type: "http", url: "http://127.0.0.1:9/", assertions: [{ subject: "body", op: "matches", value: `(${"a|".repeat(300)}b)` }] },
      paths: ["assertions.0.value"],
    },
  ];

  it.each(cases)("answers $what with 400 at its path and stores nothing", async ({ body, paths }) => {
    const before = await pool.query("SELECT count(*)::int AS n FROM checks");
    const answer = await api<{ error: { code: string; details: { issues: Array<{ path: string }> } } }>("POST", "/checks", { name: "refused", ...body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_check");
    expect([...new Set(answer.body.error.details.issues.map((issue) => issue.path))].sort()).toEqual([...paths].sort());
    expect((await pool.query("SELECT count(*)::int AS n FROM checks")).rows).toEqual(before.rows);
  });
});
