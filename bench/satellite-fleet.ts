// One process simulating N satellites against one core process (a real `vantage server`
// child over a scratch PostgreSQL), beside a bare `ws` server under the same load:
// connect rate, core CPU and RSS, database statements per second spent on heartbeats,
// heartbeat_lost detection latency when 10 % of the fleet falls silent, and a reconnect
// storm: every socket cut at once, timed until the whole fleet is online again.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import WebSocket from "ws";
import { hashToken } from "../packages/server/src/auth/index.ts";
import { findFreePort } from "../packages/server/src/storage/postgres/embedded-postgres.ts";
import { openBenchDatabase, sampleDatabaseWaits, table } from "./_database.ts";
import { PRODUCT_NODE_FLAGS } from "./_core-process.ts";
import { sampleProcess, stopChild } from "./_process.ts";

const { values } = parseArgs({
  options: {
    satellites: { type: "string", default: "2000" },
    "heartbeat-ms": { type: "string", default: "1000" },
    "steady-seconds": { type: "string" },
    "silent-percent": { type: "string", default: "10" },
    "connect-concurrency": { type: "string", default: "200" },
    "storm-concurrency": { type: "string", default: "500" },
    /** Writes a V8 CPU profile of the core process into this folder when it exits. */
    "cpu-prof-dir": { type: "string" },
  },
});
const fleetSize = Number(values.satellites);
const heartbeatMs = Number(values["heartbeat-ms"]);
const thresholdMs = 3 * heartbeatMs;
// At least two heartbeat periods, so every satellite is measured in the window.
const steadyMs = Number(values["steady-seconds"] ?? Math.max(10, (3 * heartbeatMs) / 1000)) * 1000;
const silentCount = Math.round((fleetSize * Number(values["silent-percent"])) / 100);
const connectConcurrency = Number(values["connect-concurrency"]);
const stormConcurrency = Number(values["storm-concurrency"]);

const VANTAGE_BIN = fileURLToPath(new URL("../packages/server/bin/vantage.js", import.meta.url));
const BARE_SERVER = fileURLToPath(new URL("./_bare-ws-server.ts", import.meta.url));

// One token for the whole fleet, stored as the registry stores every token (SHA-256): each
// hello costs what it costs in production.
const TOKEN = `vsat_${randomBytes(32).toString("base64url")}`;
const TOKEN_HASH = hashToken(TOKEN);

class SimulatedSatellite {
  socket!: WebSocket;
  private timer: NodeJS.Timeout | undefined;
  silent = false;
  lastHeartbeatSentAt = 0;

  /** A satellite in its own network: the core trusts 127.0.0.1 as a proxy that forwards this address. */
  constructor(
    readonly id: string,
    private readonly address: string,
  ) {}

  connect(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket = new WebSocket(url, { headers: { "x-forwarded-for": this.address } });
      this.socket.once("open", () => {
        this.socket.send(JSON.stringify({ type: "hello", satelliteId: this.id, token: TOKEN, version: "bench", capabilities: [] }));
      });
      this.socket.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { type: string; reason?: string };
        if (frame.type === "welcome") {
          this.startHeartbeats();
          resolve();
        } else if (frame.type === "rejected") {
          reject(new Error(`rejected: ${frame.reason}`));
        }
      });
      this.socket.once("error", reject);
      // Closed before the welcome (e.g. 1013 "try again later" from a core under load): retried.
      this.socket.once("close", (code) => reject(new Error(`closed before welcome: ${code}`)));
    });
  }

  private startHeartbeats(): void {
    const started = performance.now();
    const beat = () => {
      if (this.silent || this.socket.readyState !== WebSocket.OPEN) return;
      this.socket.send(JSON.stringify({ type: "heartbeat", uptimeSeconds: (performance.now() - started) / 1000, inFlight: 0 }));
      this.lastHeartbeatSentAt = Date.now();
    };
    // A random phase, as real satellites have: no thundering herd on one tick.
    this.timer = setTimeout(() => {
      beat();
      this.timer = setInterval(beat, heartbeatMs);
    }, Math.random() * heartbeatMs);
  }

  close(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.socket.terminate();
  }
}

let retries = 0;

/** A real agent retries a refused connect after a backoff; the bench does the same, a few times. */
async function connectWithRetries(satellite: SimulatedSatellite, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await satellite.connect(url);
    } catch (error) {
      satellite.close();
      if (attempt === 10) throw error;
      retries += 1;
      await sleep(100 * attempt);
    }
  }
}

/** 10.x.y.z for the i-th satellite: every one a client address of its own. */
const addressOf = (index: number) => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;

async function connectFleet(url: string, ids: string[], concurrency = connectConcurrency): Promise<{ fleet: SimulatedSatellite[]; perSecond: number }> {
  const fleet = ids.map((id, index) => new SimulatedSatellite(id, addressOf(index)));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, fleet.length) }, async () => {
      while (next < fleet.length) await connectWithRetries(fleet[next++]!, url);
    }),
  );
  return { fleet, perSecond: fleet.length / ((performance.now() - started) / 1000) };
}

/** CPU share (of one core) and peak RSS of `pid` over `ms`, sampled every second. */
async function measureSteadyState(pid: number, ms: number): Promise<{ cpuPercent: number; rssMb: number }> {
  const first = sampleProcess(pid);
  let peakRss = first.rssBytes;
  const started = performance.now();
  while (performance.now() - started < ms) {
    await sleep(1000);
    peakRss = Math.max(peakRss, sampleProcess(pid).rssBytes);
  }
  const last = sampleProcess(pid);
  const seconds = (performance.now() - started) / 1000;
  return { cpuPercent: ((last.cpuSeconds - first.cpuSeconds) / seconds) * 100, rssMb: peakRss / 1024 / 1024 };
}

async function runBaseline(ids: string[]) {
  // Both servers run with the node flags the product runs with (`npm start`, the bin's shebang):
  // spawned as `node <bin>` the shebang's are lost, and the core measured GC the product does not pay.
  const child = spawn(process.execPath, [...PRODUCT_NODE_FLAGS, "--import", "tsx", BARE_SERVER], {
    env: { ...process.env, HEARTBEAT_MS: String(heartbeatMs) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, "line")) as [string];
  const { port } = JSON.parse(first) as { port: number };
  const { fleet, perSecond } = await connectFleet(`ws://127.0.0.1:${port}/ws/satellite`, ids);
  const steady = await measureSteadyState(child.pid!, steadyMs);
  fleet.forEach((satellite) => satellite.close());
  await stopChild(child);
  return { perSecond, ...steady };
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** Transactions committed in the bench database so far (pg_stat_database; updated within about a second). */
async function committedTransactions(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ xact: string }>("SELECT xact_commit AS xact FROM pg_stat_database WHERE datname = current_database()");
  return Number(rows[0]!.xact);
}

/** Where the run is, on stderr: a long run shows it is moving. */
function progress(phase: string): void {
  process.stderr.write(`… ${phase}\n`);
}

async function main() {
  const database = await openBenchDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO satellites (name, region, token_hash, offline_threshold_ms)
     SELECT 'bench-' || g, 'region-' || (g % 5), $1, $2 FROM generate_series(1, $3) AS g RETURNING id`,
    [TOKEN_HASH, thresholdMs, fleetSize],
  );
  const ids = rows.map((row) => row.id);
  console.log(`satellite-fleet: ${fleetSize} satellites, heartbeat every ${heartbeatMs} ms, threshold ${thresholdMs} ms, ${database.describe}`);

  progress("bare ws: connecting the fleet, then steady state");
  const baseline = await runBaseline(ids);

  const port = await findFreePort();
  const profile = values["cpu-prof-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof-dir"]}`] : [];
  const core = spawn(
    process.execPath,
    [...PRODUCT_NODE_FLAGS, ...profile, VANTAGE_BIN, "server", "--port", String(port), "--log-format", "json", "--log-level", "warn"],
    {
      env: { ...process.env, DATABASE_URL: database.url, VANTAGE_HEARTBEAT_INTERVAL_MS: String(heartbeatMs), VANTAGE_TRUSTED_PROXIES: "127.0.0.1" },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready;) {
    ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await sleep(200);
  }

  progress("core: connecting the fleet, then steady state");
  const { fleet, perSecond } = await connectFleet(`ws://127.0.0.1:${port}/ws/satellite`, ids);
  await sleep(2 * heartbeatMs); // every satellite has heartbeated at least once
  const xactBefore = await committedTransactions(pool);
  const flushesBefore = await metricValue(url, "vantage_satellite_heartbeat_flush_duration_seconds_count");
  const beatsBefore = await metricValue(url, "vantage_satellite_heartbeats_received_total");
  const windowStart = performance.now();
  const steady = await measureSteadyState(core.pid!, steadyMs);
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const flushes = (await metricValue(url, "vantage_satellite_heartbeat_flush_duration_seconds_count")) - flushesBefore;
  const beats = (await metricValue(url, "vantage_satellite_heartbeats_received_total")) - beatsBefore;
  const transactions = (await committedTransactions(pool)) - xactBefore;

  progress("core: part of the fleet falls silent");
  // 10 % fall silent but keep their sockets open: only the heartbeat monitor can notice.
  const silent = fleet.slice(0, silentCount);
  silent.forEach((satellite) => (satellite.silent = true));
  const silentIds = silent.map((satellite) => satellite.id);
  const deadline = Date.now() + thresholdMs + 60_000;
  let lost = 0;
  while (lost < silentCount && Date.now() < deadline) {
    await sleep(250);
    const { rows: counted } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM satellites WHERE id = ANY($1::uuid[]) AND last_connection_event = 'heartbeat_lost'",
      [silentIds],
    );
    lost = counted[0]!.n;
  }
  const { rows: latencies } = await pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM (c.occurred_at - (s.last_heartbeat_at + s.offline_threshold_ms * interval '1 ms'))) * 1000 AS ms
     FROM entity_changes c JOIN satellites s ON s.id::text = c.entity_id
     WHERE c.kind = 'satellite-connection' AND c.next ->> 'lastEvent' = 'heartbeat_lost' AND c.entity_id = ANY($1::text[])
     ORDER BY ms`,
    [silentIds],
  );
  const { rows: falseAlarms } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM entity_changes WHERE kind = 'satellite-connection' AND next ->> 'lastEvent' = 'heartbeat_lost' AND NOT (entity_id = ANY($1::text[]))`,
    [silentIds],
  );

  // Reconnect storm: every socket cut at once (as a network blip or a load balancer restart
  // does), every satellite back at once; timed until the last one is welcomed again.
  progress("core: reconnect storm");
  fleet.forEach((satellite) => satellite.close());
  const retriesBefore = retries;
  const coreBefore = sampleProcess(core.pid!);
  const benchBefore = process.cpuUsage();
  const stormXactBefore = await committedTransactions(pool);
  const stormWaits = sampleDatabaseWaits(pool);
  const stormStarted = performance.now();
  const { fleet: returned } = await connectFleet(`ws://127.0.0.1:${port}/ws/satellite`, ids, stormConcurrency);
  const stormSeconds = (performance.now() - stormStarted) / 1000;
  const stormCpuPercent = ((sampleProcess(core.pid!).cpuSeconds - coreBefore.cpuSeconds) / stormSeconds) * 100;
  const benchCpu = process.cpuUsage(benchBefore);
  // This process plays the whole fleet: near 100 % it, not the core, sets the pace.
  const benchCpuPercent = ((benchCpu.user + benchCpu.system) / 1e6 / stormSeconds) * 100;
  const waits = (await stormWaits.stop()).map(([wait, n]) => `${wait} ${n.toFixed(1)}`);
  const stormTransactions = (await committedTransactions(pool)) - stormXactBefore;
  const { rows: online } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM satellites WHERE last_connection_event = 'connected'");

  returned.forEach((satellite) => satellite.close());
  await stopChild(core);
  await pool.end();
  await database.close();

  const ms = latencies.map((row) => Number(row.ms));
  console.log(
    table([
      {
        "": "connect rate (satellites/s)",
        core: Math.round(perSecond),
        "bare ws": Math.round(baseline.perSecond),
        "core / bare": (perSecond / baseline.perSecond).toFixed(2),
      },
      {
        "": "CPU, steady state (% of one core)",
        core: steady.cpuPercent.toFixed(1),
        "bare ws": baseline.cpuPercent.toFixed(1),
        "core / bare": (steady.cpuPercent / baseline.cpuPercent).toFixed(2),
      },
      { "": "peak RSS (MB)", core: steady.rssMb.toFixed(0), "bare ws": baseline.rssMb.toFixed(0), "core / bare": (steady.rssMb / baseline.rssMb).toFixed(2) },
    ]),
  );
  console.log(
    `heartbeats: ${(beats / windowSeconds).toFixed(0)}/s received; heartbeat flush statements: ${(flushes / windowSeconds).toFixed(2)}/s; ` +
      `all database transactions: ${(transactions / windowSeconds).toFixed(1)}/s`,
  );
  console.log(
    `heartbeat_lost: ${ms.length}/${silentCount} silent satellites reported (${falseAlarms[0]!.n} false alarms); beyond the threshold: ` +
      `median ${ms.length ? ms[Math.floor(ms.length / 2)]!.toFixed(0) : "-"} ms, max ${ms.length ? ms.at(-1)!.toFixed(0) : "-"} ms`,
  );
  console.log(
    `reconnect storm: ${fleetSize} satellites cut at once, all welcomed again in ${stormSeconds.toFixed(2)} s ` +
      `(${Math.round(fleetSize / stormSeconds)}/s, ${stormConcurrency} connecting at a time, SHA-256 tokens, ${retries - retriesBefore} connects retried); ` +
      `${online[0]!.n} recorded connected; core CPU meanwhile ${stormCpuPercent.toFixed(0)} % of one core, this fleet's ${benchCpuPercent.toFixed(0)} %; ` +
      `${stormTransactions} database transactions committed (the sampler's own included); mean database sessions by wait: ${waits.join(", ") || "none"}`,
  );
}

await main();
