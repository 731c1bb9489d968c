// Entity change → webhook received: the latency of the whole automation path (outbox, router,
// automation sink, job queue, run executor, webhook action) with the router and the executor
// on one core, then on two, each change timed from its commit to the request's arrival. The
// cores run in this process; the driver that commits the changes and the webhook receiver run
// in processes of their own, so this event loop is only the cores'.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { silentLogger } from "../packages/server/src/log.ts";
import { type Core, type CoreOptions, startCore } from "../packages/server/src/main.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import {
  databaseCpuSamplerMicros,
  openBenchDatabase,
  parseSettings,
  resetStatementStats,
  sampleDatabaseWaits,
  statementProfile,
  table,
  trackDatabaseProcessCpu,
  walCounters,
  walPosition,
  walProfile,
} from "./_database.ts";
import { hostCpu, jsonLines, postmasterOf, processCpuSeconds, processTreeCpuSeconds, stopChild } from "./_process.ts";
import { parseHistoryCount, seedRunHistory } from "./_run-history.ts";
import { countSocketTrips } from "./_socket-trips.ts";

const { values } = parseArgs({
  options: {
    changes: { type: "string", default: "2000" },
    warmup: { type: "string", default: "100" },
    rate: { type: "string", default: "100" },
    satellites: { type: "string", default: "200" },
    "drain-seconds": { type: "string", default: "30" },
    /** Which layouts to run: `same`, `different` or both (comma-separated). */
    layouts: { type: "string", default: "same,different" },
    /** Prints the statements that took the database's time during the drive and drain (pg_stat_statements). */
    "statement-stats": { type: "boolean", default: false },
    /** Prints the WAL written during the drive and drain by relation, full-page images apart (pg_walinspect). */
    "wal-stats": { type: "boolean", default: false },
    /**
     * CHECKPOINT before the drive: every page the drive changes then logs one full-page image
     * first, as after any checkpoint in production. Without it, whether a timed checkpoint falls
     * inside the run decides how many there are, and two runs' WAL cannot be compared.
     */
    checkpoint: { type: "boolean", default: false },
    /** Settings of the embedded PostgreSQL (`name=value`, repeatable), e.g. `commit_delay=200`. */
    "pg-setting": { type: "string", multiple: true },
    /**
     * How often the wait sampler reads pg_stat_activity; 0 turns it off. Every 20 ms it cost
     * PostgreSQL ~0.25 CPU ms per change at 200 changes/s, a seventh of the core's own share.
     */
    "wait-sample-ms": { type: "string", default: "100" },
    /** Writes a CPU profile of the driver process (node --cpu-prof) into this directory, one per scenario. */
    "driver-cpu-prof-dir": { type: "string" },
    /**
     * The driver's pool size. Its open loop has 1–3 mutations in flight at 200 changes/s; a
     * bigger pool only lets a CPU stall pile up that many driver transactions at once, whose
     * backends then compete with the core's and whose open transactions the router must wait
     * for (it reads below the oldest one). 20 (the old size): p99 149–465 ms; 4: 52–100 (README).
     */
    "driver-connections": { type: "string", default: "4" },
    /**
     * Finished runs seeded (and the run tables analyzed) before the drive, as a system that has
     * been up for a day holds: bench/_run-history.ts says why the plans need them. 0: a fresh install.
     */
    history: { type: "string", default: "20000" },
  },
});
const measuredCount = Number(values.changes);
/** The wait of a session queued for PostgreSQL's notify lock (held by a notifying commit until it is flushed). */
const NOTIFY_LOCK_WAIT = "Lock:object";
const warmupCount = Number(values.warmup);
const rate = Number(values.rate);
const driverConnections = Number(values["driver-connections"]);
if (!Number.isInteger(driverConnections) || driverConnections < 1) {
  console.error(`--driver-connections must be a whole number ≥ 1 (got "${values["driver-connections"]}")`);
  process.exit(2);
}
const historyCount = parseHistoryCount(values.history);
const satelliteCount = Number(values.satellites);
const drainMs = Number(values["drain-seconds"]) * 1000;
const statementStats = values["statement-stats"];
const walStats = values["wal-stats"];
const waitSampleMs = Number(values["wait-sample-ms"]);

const ADMIN_TOKEN = `bench-admin-${randomUUID()}`;
const logger = silentLogger();
/** The cores' socket writes and reads (what the bench itself sends and receives left out). */
const socketTrips = countSocketTrips();
// The router's connection, told by its first statement (each leadership term ensures its cursor),
// counted apart: its round trips (writes) and wake-ups (reads) per router batch.
const ROUTER_LABEL = "router";
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (typeof args[0] === "string" && args[0].startsWith("INSERT INTO entity_consumer_cursors"))
    socketTrips.label((this as unknown as { connection: { stream: object } }).connection.stream, ROUTER_LABEL);
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
const DRIVER = fileURLToPath(new URL("./_change-driver.ts", import.meta.url));
const RECEIVER = fileURLToPath(new URL("./_webhook-receiver.ts", import.meta.url));

/**
 * Every time here is the host's wall clock in epoch ms to the microsecond (timeOrigin + the
 * performance clock): the driver, the receiver and this process read the same clock.
 */
const now = () => performance.timeOrigin + performance.now();

/** One webhook request as the receiver saw it. */
interface Arrival {
  runId: string;
  at: number;
}

/** A bench process of ours (driver, receiver): one JSON line per command on stdin. */
interface Child {
  process: ChildProcess;
  next: () => Promise<Record<string, unknown>>;
  ask(command: string): Promise<Record<string, unknown>>;
}

function startChild(args: string[], nodeFlags: readonly string[] = []): Child {
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", ...args], { stdio: ["pipe", "pipe", "inherit"] });
  socketTrips.ignore(child.stdin!);
  socketTrips.ignore(child.stdout!);
  const next = jsonLines(child);
  return {
    process: child,
    next,
    ask: (command) => {
      child.stdin!.write(`${command}\n`);
      return next();
    },
  };
}

interface Receiver {
  url: string;
  /** Its process's CPU seconds so far (user + system). */
  cpuSeconds(): number;
  received(): Promise<number>;
  /** TCP connections the receiver accepted since the last reset. */
  connections(): Promise<number>;
  arrivals(): Promise<Arrival[]>;
  reset(): Promise<void>;
  close(): Promise<unknown>;
}

async function startReceiver(): Promise<Receiver> {
  const child = startChild([RECEIVER]);
  const { port } = (await child.next()) as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    cpuSeconds: () => processCpuSeconds(child.process.pid!),
    received: async () => ((await child.ask("report")) as { received: number }).received,
    connections: async () => ((await child.ask("report")) as { connections: number }).connections,
    arrivals: async () => ((await child.ask("arrivals")) as { arrivals: Array<[string, number]> }).arrivals.map(([runId, at]) => ({ runId, at })),
    reset: async () => void (await child.ask("reset")),
    close: () => stopChild(child.process),
  };
}

/**
 * PostgreSQL's clock minus the host's wall clock as `now()` reads it, from the query with the
 * shortest round trip; `uncertaintyMs` is half that round trip.
 */
async function clockOffset(pool: pg.Pool): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  let best = { offsetMs: 0, uncertaintyMs: Infinity };
  for (let i = 0; i < 50; i++) {
    const before = now();
    const { rows } = await pool.query<{ ms: string }>("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::text AS ms");
    const after = now();
    const uncertaintyMs = (after - before) / 2;
    if (uncertaintyMs < best.uncertaintyMs) best = { offsetMs: Number(rows[0]!.ms) - (before + after) / 2, uncertaintyMs };
  }
  return best;
}

/** The database's busy sessions by what they wait on, and each core's pool queue, sampled until stopped (not at all with --wait-sample-ms 0). */
function sampleWaits(pool: pg.Pool, cores: readonly Core[]) {
  if (waitSampleMs <= 0) return { stop: async (): Promise<Array<[string, number]>> => [] };
  return sampleDatabaseWaits(pool, () => cores.map((core, i): [string, number] => [`core ${i + 1} pool queue`, core.database.pool.waitingCount]), waitSampleMs);
}

/** CPU seconds so far of the PostgreSQL server behind `pool`: postmaster, backends and workers (null when it runs elsewhere). */
async function databaseCpu(pool: pg.Pool): Promise<(() => number) | null> {
  const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const postmaster = postmasterOf(rows[0]!.pid);
  return postmaster === null ? null : () => processTreeCpuSeconds(postmaster);
}

interface Scenario {
  name: string;
  /** Options of each core, started in order; the first becomes the router (the driver commits through PostgreSQL, from its own process). */
  cores: CoreOptions[];
}

const LAYOUTS: Record<string, Scenario> = {
  same: { name: "same instance", cores: [{}] },
  different: { name: "different instances", cores: [{ automationWorker: false }, {}] },
};
const SCENARIOS: Scenario[] = values.layouts.split(",").map((layout) => {
  const scenario = LAYOUTS[layout.trim()];
  if (!scenario) throw new Error(`--layouts: unknown layout "${layout}" (known: ${Object.keys(LAYOUTS).join(", ")})`);
  return scenario;
});

interface ScenarioResult {
  name: string;
  /** Per measured change, in ms: commit → webhook, and its stages (commit → routed → claimed → webhook → run ended). */
  total: number[];
  /** Of commit → routed: until the router read the change (empty on a router without onRead), and from there. */
  read: number[];
  readToRouted: number[];
  routed: number[];
  claimed: number[];
  delivered: number[];
  ended: number[];
  received: number;
  duplicates: number;
  missing: number;
  unmatched: number;
  failedRuns: number;
  /** Changes the automation decided not to run, by reason (e.g. max_runs), warm-up included: each is also missing. */
  skips: Array<{ reason: string; n: number }>;
  changesPerSecond: number;
  webhooksPerSecond: number;
  routerBatches: number;
  /** Router batches that committed a transaction (the others wrote nothing: no transaction). */
  routerCommits: number;
  heldBackPolls: number;
  /** Router reads that found nothing to route, per change driven. */
  emptyReadsPerChange: number;
  /** This process's socket writes and data chunks read per change driven, by peer (the bench's own pool and pipes left out). */
  socketTrips: Array<{ peer: string; writes: number; reads: number }>;
  /** The router connection's socket writes and reads (round trips and wake-ups), per router batch and per empty read. */
  routerTrips: { writes: number; reads: number };
  /** Connections the webhook receiver accepted per change driven: each one opened costs the core a connect (kept connections should make it ~0). */
  webhookConnectionsPerChange: number;
  /** Share of the drive and drain this process's event loop was busy (the cores' only: driver and receiver run elsewhere). */
  eventLoopBusy: number;
  /** CPU time (user + system) of this process — the cores' — per change driven, in ms: the figure load distorts least. The bench's own /proc sampling is taken out. */
  cpuMsPerChange: number;
  /** What the bench's reading of the database processes' CPU (in this process) took, per change: left out of cpuMsPerChange. */
  samplerCpuMsPerChange: number;
  /** Meanwhile, the host's CPUs busy (PostgreSQL, this process, anything else), as a share of all of them. */
  hostBusy: number;
  /** The host's busy CPU time per change driven, in ms (every process: cores, PostgreSQL, driver, receiver, kernel). */
  hostCpuMsPerChange: number;
  /** The driver process's own CPU per change (it commits the changes; its backend is in the database's figure). */
  driverCpuMsPerChange: number;
  /** The webhook receiver process's CPU per change. */
  receiverCpuMsPerChange: number;
  /** How far a PostgreSQL timestamp may be off on this process's clock. */
  clockUncertaintyMs: number;
  /** Mean busy database sessions by what they wait on, during the drive and drain. */
  waits: Array<[string, number]>;
  /** The database's WAL flushes and committed transactions per change driven (the driver's own commits included). */
  walFsyncsPerChange: number;
  commitsPerChange: number;
  /** CPU time of the PostgreSQL server (every process of it) per change driven, in ms; NaN when it runs elsewhere. */
  databaseCpuMsPerChange: number;
  /** Of it, CPU ms per change by process (a connection's application_name, or a server process's type); read every 250 ms. */
  databaseCpuByRole: Array<[string, number]>;
  /** The statements by database time during the drive and drain (--statement-stats). */
  statements?: string;
  /** The statements run most often (each autocommit one and each COMMIT a transaction of its own; --statement-stats). */
  statementsByCalls?: string;
  /** The statements by planning time: those PostgreSQL plans afresh at every call lead (--statement-stats). */
  statementsByPlanning?: string;
  /** The WAL by relation during the drive and drain (--wal-stats). */
  wal?: string;
}

async function startCores(
  scenario: Scenario,
  databaseUrl: string,
  onBatch: (changeIds: string[], committed: boolean) => void,
  onIdle: (heldBack: boolean) => void,
  onRead: (changeIds: readonly string[]) => void,
): Promise<Core[]> {
  const cores: Core[] = [];
  try {
    for (const [index, options] of scenario.cores.entries()) {
      const core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN }, logger, {
        ...options,
        routerObserver: {
          // A router without `outcome` (before batches that write nothing were told apart) committed every batch.
          onBatch: (batch, outcome?: { committed: boolean }) =>
            onBatch(
              batch.map((routed) => routed.change.changeId),
              outcome?.committed ?? true,
            ),
          onIdle,
          onRead,
        },
      });
      cores.push(core);
      // The first core must hold the router's lock before the next one starts.
      if (index === 0)
        for (let waited = 0; !core.router.isLeader(); waited += 50) {
          if (waited > 10_000) throw new Error("the first core did not become the router");
          await sleep(50);
        }
    }
    return cores;
  } catch (error) {
    for (const core of cores.reverse()) await core.stop();
    throw error;
  }
}

async function createAutomation(core: Core, hookUrl: string, { enabled = true, name = "bench: webhook on every connection change" } = {}): Promise<string> {
  const response = await fetch(`${core.url}/api/v1/automations`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      name,
      enabled,
      triggers: [{ event: "satellite.connected" }, { event: "satellite.disconnected" }],
      mode: "parallel",
      maxRuns: 1000,
      actions: [{ webhook: { url: hookUrl, body: { satelliteId: "{{ trigger.payload.satelliteId }}", event: "{{ trigger.event }}" } } }],
    }),
  });
  if (response.status !== 201) throw new Error(`creating the automation answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

async function deleteAutomation(core: Core, id: string): Promise<void> {
  const response = await fetch(`${core.url}/api/v1/automations/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (response.status !== 204) throw new Error(`deleting the automation answered ${response.status}`);
}

/** A change and the moment the call that committed it returned (in the driver). */
interface Committed {
  changeId: string;
  committedAt: number;
}

/**
 * Commits `total` changes at `rate` per second in the driver process (another "core" with its
 * own pool: its commits reach the measured cores through PostgreSQL, as another process's do).
 */
async function driveChanges(databaseUrl: string, satelliteIds: string[], total: number): Promise<{ changes: Committed[]; driverCpuMicros: number }> {
  const profileDir = values["driver-cpu-prof-dir"];
  const driver = startChild(
    [DRIVER, "--database-url", databaseUrl, "--rate", String(rate), "--connections", String(driverConnections)],
    profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  );
  try {
    const { committed, cpuMicros } = (await driver.ask(JSON.stringify({ satelliteIds, total }))) as { committed: Array<[string, number]>; cpuMicros: number };
    return { changes: committed.map(([changeId, committedAt]) => ({ changeId, committedAt })), driverCpuMicros: cpuMicros };
  } finally {
    await stopChild(driver.process);
  }
}

interface RunRow {
  id: string;
  change_id: string;
  status: string;
  started_ms: string | null;
  finished_ms: string | null;
}

/** Requests by change (through the run each names), and requests naming no run of this automation. */
function arrivalsByChange(arrivals: readonly Arrival[], runs: readonly RunRow[]): { byChange: Map<string, number[]>; unmatched: number } {
  const changeOfRun = new Map(runs.map((run) => [run.id, run.change_id]));
  const byChange = new Map<string, number[]>();
  let unmatched = 0;
  for (const arrival of arrivals) {
    const changeId = changeOfRun.get(arrival.runId);
    if (changeId === undefined) unmatched++;
    else byChange.set(changeId, [...(byChange.get(changeId) ?? []), arrival.at]);
  }
  return { byChange, unmatched };
}

type Timings = Pick<
  ScenarioResult,
  "total" | "read" | "readToRouted" | "routed" | "claimed" | "delivered" | "ended" | "received" | "duplicates" | "missing" | "webhooksPerSecond"
>;

/** When a run was claimed and when it ended, on the host's clock. */
interface RunTimes {
  claimed: number;
  ended: number;
}

/** Each measured change's latency and stages; every time on the host's clock. */
function timings(
  measured: readonly Committed[],
  byChange: Map<string, number[]>,
  readAt: Map<string, number>,
  routedAt: Map<string, number>,
  runTimes: Map<string, RunTimes>,
): Timings {
  const result: Timings = {
    total: [],
    read: [],
    readToRouted: [],
    routed: [],
    claimed: [],
    delivered: [],
    ended: [],
    received: 0,
    duplicates: 0,
    missing: 0,
    webhooksPerSecond: 0,
  };
  let lastArrival = 0;
  for (const { changeId, committedAt } of measured) {
    const arrivals = byChange.get(changeId);
    if (!arrivals) {
      result.missing++;
      continue;
    }
    result.received += arrivals.length;
    result.duplicates += arrivals.length - 1;
    const arrived = Math.min(...arrivals);
    lastArrival = Math.max(lastArrival, arrived);
    result.total.push(arrived - committedAt);
    const routed = routedAt.get(changeId);
    const run = runTimes.get(changeId);
    if (routed !== undefined && run !== undefined) {
      result.routed.push(routed - committedAt);
      const read = readAt.get(changeId);
      if (read !== undefined) {
        result.read.push(read - committedAt);
        result.readToRouted.push(routed - read);
      }
      result.claimed.push(run.claimed - routed);
      result.delivered.push(arrived - run.claimed);
      result.ended.push(run.ended - arrived);
    }
  }
  result.webhooksPerSecond = result.received / ((lastArrival - measured[0]!.committedAt) / 1000);
  return result;
}

type TripCounts = ReturnType<typeof socketTrips.read>;

/** Socket writes and reads per change between two counts, by peer (a port not named is "other"), and all of them. */
function tripsPerChange(before: TripCounts, after: TripCounts, changes: number, peers: Record<number, string>): ScenarioResult["socketTrips"] {
  const byPeer = new Map<string, { writes: number; reads: number }>();
  for (const [port, counts] of after.byPort) {
    const peer = peers[port] ?? "other";
    const earlier = before.byPort.get(port) ?? { writes: 0, reads: 0 };
    const sum = byPeer.get(peer) ?? { writes: 0, reads: 0 };
    byPeer.set(peer, { writes: sum.writes + counts.writes - earlier.writes, reads: sum.reads + counts.reads - earlier.reads });
  }
  const all = { writes: after.total.writes - before.total.writes, reads: after.total.reads - before.total.reads };
  return [...byPeer, ["all", all] as const].map(([peer, { writes, reads }]) => ({ peer, writes: writes / changes, reads: reads / changes }));
}

/** The router connection's socket writes and reads between two counts, per read of the outbox (a batch, or an empty read). */
function routerTripsPerRead(before: TripCounts, after: TripCounts, reads: number): ScenarioResult["routerTrips"] {
  const earlier = before.byLabel.get(ROUTER_LABEL) ?? { writes: 0, reads: 0 };
  const later = after.byLabel.get(ROUTER_LABEL) ?? { writes: 0, reads: 0 };
  return { writes: (later.writes - earlier.writes) / reads, reads: (later.reads - earlier.reads) / reads };
}

async function runScenario(
  scenario: Scenario,
  databaseUrl: string,
  pool: pg.Pool,
  receiver: Receiver,
  serverCpu: (() => number) | null,
): Promise<ScenarioResult> {
  const routedAt = new Map<string, number>();
  // The router's first read of each change (a batch refused and read again keeps its first).
  const readAt = new Map<string, number>();
  const onRead = (changeIds: readonly string[]) => {
    const at = now();
    for (const changeId of changeIds) if (!readAt.has(changeId)) readAt.set(changeId, at);
  };
  let routerBatches = 0;
  let routerCommits = 0;
  let heldBackPolls = 0;
  let emptyReads = 0;
  const onBatch = (changeIds: string[], committed: boolean) => {
    const at = now();
    routerBatches++;
    if (committed) routerCommits++;
    for (const changeId of changeIds) routedAt.set(changeId, at);
  };
  const onIdle = (heldBack: boolean) => {
    emptyReads++;
    if (heldBack) heldBackPolls++;
  };
  const cores = await startCores(scenario, databaseUrl, onBatch, onIdle, onRead);
  const first = cores[0]!;
  const prefix = `bench-${scenario.name.replaceAll(" ", "-")}-`;
  try {
    const satelliteIds: string[] = [];
    for (let i = 0; i < satelliteCount; i++) satelliteIds.push(await first.satellites.create({ name: `${prefix}${i}`, region: "bench", tokenHash: "unused" }));
    const automationId = await createAutomation(first, receiver.url);
    const historyAutomationId = await createAutomation(first, receiver.url, { enabled: false, name: "bench: history" });
    await seedRunHistory(pool, historyAutomationId, historyCount);
    await Promise.all(cores.map((core) => core.automations.reload()));
    await receiver.reset();
    routerBatches = 0;
    routerCommits = 0;
    heldBackPolls = 0;
    emptyReads = 0;

    const loopBefore = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    const samplerBefore = databaseCpuSamplerMicros();
    const tripsBefore = socketTrips.read();
    const hostBefore = hostCpu();
    const receiverCpuBefore = receiver.cpuSeconds();
    if (values.checkpoint) await pool.query("CHECKPOINT");
    const walBefore = await walCounters(pool);
    const walFrom = await walPosition(pool);
    if (statementStats) await resetStatementStats(pool);
    const serverCpuBefore = serverCpu?.() ?? NaN;
    const processCpu = await trackDatabaseProcessCpu(pool);
    const sampler = sampleWaits(pool, cores);
    const { changes, driverCpuMicros } = await driveChanges(databaseUrl, satelliteIds, warmupCount + measuredCount);
    for (const deadline = performance.now() + drainMs; (await receiver.received()) < changes.length && performance.now() < deadline;) await sleep(50);
    const eventLoopBusy = performance.eventLoopUtilization(loopBefore).utilization;
    const webhookConnections = await receiver.connections();
    const cpu = process.cpuUsage(cpuBefore);
    const samplerMicros = databaseCpuSamplerMicros() - samplerBefore;
    const tripsAfter = socketTrips.read();
    const hostAfter = hostCpu();
    const receiverCpuSeconds = receiver.cpuSeconds() - receiverCpuBefore;
    const waits = await sampler.stop();
    const serverCpuSeconds = (serverCpu?.() ?? NaN) - serverCpuBefore;
    const cpuByRole = await processCpu.stop();
    const units = { count: changes.length, name: "change" };
    const statements = statementStats ? await statementProfile(pool, 25, units) : undefined;
    const statementsByCalls = statementStats ? await statementProfile(pool, 25, units, "calls") : undefined;
    const statementsByPlanning = statementStats ? await statementProfile(pool, 25, units, "planning") : undefined;
    const walAfter = await walCounters(pool);
    const wal = walStats ? await walProfile(pool, walFrom, units) : undefined;
    // Anything late (a retry, a second run) shows up as a duplicate within this grace.
    await sleep(500);

    const clock = await clockOffset(pool);
    const { rows } = await pool.query<RunRow>(
      `SELECT id, change_id, status, (extract(epoch FROM started_at) * 1000)::text AS started_ms, (extract(epoch FROM finished_at) * 1000)::text AS finished_ms
       FROM automation_runs WHERE automation_id = $1`,
      [automationId],
    );
    const { rows: skips } = await pool.query<{ reason: string; n: number }>(
      "SELECT reason, count(*)::int AS n FROM automation_skips WHERE automation_id = $1 GROUP BY reason ORDER BY n DESC",
      [automationId],
    );
    await deleteAutomation(first, automationId);
    await deleteAutomation(first, historyAutomationId);
    const ours = (databaseMs: string) => Number(databaseMs) - clock.offsetMs;
    const runTimes = new Map<string, RunTimes>();
    for (const row of rows)
      if (row.started_ms !== null && row.finished_ms !== null) runTimes.set(row.change_id, { claimed: ours(row.started_ms), ended: ours(row.finished_ms) });
    const { byChange, unmatched } = arrivalsByChange(await receiver.arrivals(), rows);
    const measured = changes.slice(warmupCount);
    return {
      name: scenario.name,
      ...timings(measured, byChange, readAt, routedAt, runTimes),
      unmatched,
      failedRuns: rows.filter((row) => row.status !== "succeeded").length,
      skips,
      changesPerSecond: (measured.length - 1) / ((measured.at(-1)!.committedAt - measured[0]!.committedAt) / 1000),
      routerBatches,
      routerCommits,
      heldBackPolls,
      emptyReadsPerChange: emptyReads / changes.length,
      socketTrips: tripsPerChange(tripsBefore, tripsAfter, changes.length, {
        [Number(new URL(databaseUrl).port)]: "PostgreSQL",
        [Number(new URL(receiver.url).port)]: "webhooks",
      }),
      webhookConnectionsPerChange: webhookConnections / changes.length,
      routerTrips: routerTripsPerRead(tripsBefore, tripsAfter, routerBatches + emptyReads),
      eventLoopBusy,
      cpuMsPerChange: (cpu.user + cpu.system - samplerMicros) / 1000 / changes.length,
      samplerCpuMsPerChange: samplerMicros / 1000 / changes.length,
      hostBusy: (hostAfter.busy - hostBefore.busy) / (hostAfter.total - hostBefore.total),
      hostCpuMsPerChange: (hostAfter.busy - hostBefore.busy) / changes.length,
      driverCpuMsPerChange: driverCpuMicros / 1000 / changes.length,
      receiverCpuMsPerChange: (receiverCpuSeconds * 1000) / changes.length,
      clockUncertaintyMs: clock.uncertaintyMs,
      waits,
      walFsyncsPerChange: (walAfter.fsyncs - walBefore.fsyncs) / changes.length,
      commitsPerChange: (walAfter.commits - walBefore.commits) / changes.length,
      databaseCpuMsPerChange: (serverCpuSeconds * 1000) / changes.length,
      databaseCpuByRole: cpuByRole.map(([role, seconds]): [string, number] => [role, (seconds * 1000) / changes.length]),
      statements,
      statementsByCalls,
      statementsByPlanning,
      wal,
    };
  } finally {
    for (const core of cores.reverse()) await core.stop();
  }
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "-");

function spread(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: ms(percentile(sorted, 50)), p95: ms(percentile(sorted, 95)), p99: ms(percentile(sorted, 99)), max: ms(sorted.at(-1) ?? NaN) };
}

const database = await openBenchDatabase({ statementStats, settings: parseSettings(values["pg-setting"]) });
const pool = createPool(database.url, logger, { max: 2, applicationName: "automation-latency-bench" });
pool.on("connect", (client) => socketTrips.ignore((client as unknown as { connection: { stream: object } }).connection.stream));
const receiver = await startReceiver();
const results: ScenarioResult[] = [];
try {
  const serverCpu = await databaseCpu(pool);
  for (const scenario of SCENARIOS) results.push(await runScenario(scenario, database.url, pool, receiver, serverCpu));
} finally {
  await receiver.close();
  await pool.end();
  await database.close();
}

console.log(
  `automation-latency: ${database.describe}, ${os.cpus().length} CPUs, the cores' node flags "${process.execArgv.filter((flag) => flag.startsWith("--max-")).join(" ")}"; ${measuredCount} changes (after ${warmupCount} warm-up) at ${rate}/s over ${satelliteCount} satellites (the driver on ${driverConnections} connections; ${historyCount} past runs seeded, the run tables analyzed), ` +
    `each a satellite.connected or .disconnected that runs one webhook action (mode parallel); latency = mutation returned → request arrived, in ms`,
);
console.log(
  table(
    results.map((result) => ({
      scenario: result.name,
      ...spread(result.total),
      "changes/s": result.changesPerSecond.toFixed(0),
      "webhooks/s": result.webhooksPerSecond.toFixed(0),
      changes: measuredCount,
      received: result.received,
      duplicates: result.duplicates,
      missing: result.missing,
      "runs not succeeded": result.failedRuns,
      skipped: result.skips.map(({ reason, n }) => `${n} ${reason}`).join(", ") || 0,
    })),
  ),
);
const uncertainty = Math.max(...results.map((result) => result.clockUncertaintyMs));
console.log(
  `\nwhere the time goes (p50 / p95 / p99 ms; a run's started_at and finished_at, on PostgreSQL's clock, placed on ours to ±${uncertainty.toFixed(2)} ms):`,
);
console.log(
  table(
    results.flatMap((result) =>
      (
        [
          ["commit → routed (router batch committed, or judged to write nothing)", result.routed],
          ["  of it: commit → read by the router", result.read],
          ["  of it: read → routed (the batch's judging and transaction)", result.readToRouted],
          ["routed → run claimed by the worker", result.claimed],
          ["claimed → webhook arrived", result.delivered],
          ["webhook arrived → run ended (not in the latency)", result.ended],
        ] as const
      ).map(([stage, values]) => {
        const { p50, p95, p99 } = spread(values);
        return { scenario: result.name, stage, p50, p95, p99 };
      }),
    ),
  ),
);
for (const result of results) {
  // Runs finishing slower than changes arrive: the latencies above include a queue that grew all along.
  if (result.webhooksPerSecond < 0.95 * result.changesPerSecond)
    console.log(
      `${result.name}: the executor fell behind (${result.webhooksPerSecond.toFixed(0)} of ${result.changesPerSecond.toFixed(0)}/s); try a lower --rate`,
    );
  console.log(
    `${result.name}: ${result.routerBatches} router batches (${((warmupCount + measuredCount) / result.routerBatches).toFixed(1)} changes each, warm-up included; ${result.routerCommits} committed a transaction), ${result.heldBackPolls} polls held back by an open older transaction, ${result.unmatched} requests from unknown runs, event loop busy ${(result.eventLoopBusy * 100).toFixed(0)} % (${result.cpuMsPerChange.toFixed(2)} CPU ms per change, the bench's /proc sampling's ${result.samplerCpuMsPerChange.toFixed(2)} left out), host CPUs busy ${(result.hostBusy * 100).toFixed(0)} %`,
  );
  // The whole host's CPU per change, so what is left beside the cores and PostgreSQL shows.
  console.log(
    `${result.name}: the host's busy CPU ms per change ${result.hostCpuMsPerChange.toFixed(2)}: of it the cores ${result.cpuMsPerChange.toFixed(2)}, PostgreSQL ${result.databaseCpuMsPerChange.toFixed(2)}, the driver process ${result.driverCpuMsPerChange.toFixed(2)}, the webhook receiver ${result.receiverCpuMsPerChange.toFixed(2)}, the rest (kernel, the bench's sampling, other processes) ${(result.hostCpuMsPerChange - result.cpuMsPerChange - result.databaseCpuMsPerChange - result.driverCpuMsPerChange - result.receiverCpuMsPerChange).toFixed(2)}`,
  );
  console.log(
    `${result.name}: per change driven, the cores' socket writes / reads (round trips and wake-ups): ${result.socketTrips.map(({ peer, writes, reads }) => `${peer} ${writes.toFixed(2)} / ${reads.toFixed(2)}`).join(", ")}; ${result.emptyReadsPerChange.toFixed(2)} router reads that found nothing; the router's connection ${result.routerTrips.writes.toFixed(2)} writes / ${result.routerTrips.reads.toFixed(2)} reads per outbox read (a batch or an empty read); ${result.webhookConnectionsPerChange.toFixed(3)} webhook connections opened`,
  );
  // The five largest, and always PostgreSQL's notify lock (Lock:object): NOTIFYs inside commits queue there.
  const shown = result.waits.filter(([wait], i) => i < 5 || wait === NOTIFY_LOCK_WAIT);
  if (!shown.some(([wait]) => wait === NOTIFY_LOCK_WAIT)) shown.push([NOTIFY_LOCK_WAIT, 0]);
  const waits = shown.map(([wait, n]) => `${wait} ${n.toFixed(2)}`);
  console.log(
    `${result.name}: mean sessions by wait, and queries queued for a pool connection (sampled every ${waitSampleMs} ms): ${waits.join(", ") || "none"}`,
  );
  console.log(
    `${result.name}: per change driven, ${result.walFsyncsPerChange.toFixed(2)} WAL flushes and ${result.commitsPerChange.toFixed(2)} database commits (driver's and samplers' included), ${result.databaseCpuMsPerChange.toFixed(2)} CPU ms of PostgreSQL (all its processes), load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const byRole = result.databaseCpuByRole.filter(([, ms]) => ms > 0).map(([role, ms]) => `${role} ${ms.toFixed(2)}`);
  console.log(`${result.name}: PostgreSQL CPU ms per change by process: ${byRole.join(", ") || "-"}`);
  if (result.statements)
    console.log(`${result.name}: statements by database time during the drive and drain (driver's and samplers' included):\n${result.statements}`);
  if (result.wal) console.log(`${result.name}: WAL during the drive and drain, by relation (driver's included):\n${result.wal}`);
  if (result.statementsByCalls)
    console.log(`${result.name}: statements run most often (transactions: COMMIT and each autocommit statement):\n${result.statementsByCalls}`);
  if (result.statementsByPlanning)
    console.log(`${result.name}: statements by planning time (plans/change 1.00: planned at every call):\n${result.statementsByPlanning}`);
}
