// Connects of a satellite fleet against a real core process beside a bare `ws` server, in
// alternating rounds: the cost per connect in CPU milliseconds of the server process (and of
// PostgreSQL, for the core), which holds on a shared machine where connects/s follows the CPU
// share other processes leave. Each round connects the whole fleet, cuts every socket and, for
// the core, waits until every close was recorded (its cost is printed apart).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import WebSocket from "ws";
import { hashToken } from "../packages/server/src/auth/index.ts";
import { findFreePort } from "../packages/server/src/storage/postgres/embedded-postgres.ts";
import { committedTransactions, openBenchDatabase, rowsWritten, statementsExecuted, table } from "./_database.ts";
import { PRODUCT_NODE_FLAGS } from "./_core-process.ts";
import { jsonLines, postmasterOf, processTreeCpuSeconds, sampleProcess, stopChild } from "./_process.ts";

const { values } = parseArgs({
  options: {
    satellites: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "200" },
    /** Writes a V8 CPU profile of the core process into this folder when it exits. */
    "cpu-prof-dir": { type: "string" },
    /** Preloads pg_stat_statements and prints the core's statements per connect (adds a little database CPU). */
    "statement-stats": { type: "boolean", default: false },
    /** Counts the core's Syncs answered (ReadyForQuery, about its round trips) per connect (bench/_count-syncs.mjs). */
    "count-syncs": { type: "boolean", default: false },
  },
});
const fleetSize = Number(values.satellites);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);

const VANTAGE_BIN = fileURLToPath(new URL("../packages/server/bin/vantage.js", import.meta.url));
const BARE_SERVER = fileURLToPath(new URL("./_bare-ws-server.ts", import.meta.url));
const COUNT_SYNCS = fileURLToPath(new URL("./_count-syncs.mjs", import.meta.url));
// One token for the fleet, stored as the registry stores every token (SHA-256).
const TOKEN = `vsat_${randomBytes(32).toString("base64url")}`;

/** 10.x.y.z for the i-th satellite: every one a client address of its own (through the trusted proxy header). */
const addressOf = (index: number) => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;

/**
 * The two waits of one connect, in ms: the upgrade (socket → open) and hello → welcome. With a
 * fixed number connecting at a time, connects/s is that number over their sum, so they say
 * where a slower rate comes from.
 */
interface ConnectTimes {
  openMs: number;
  welcomeMs: number;
}

/** Opens a socket, says hello and resolves at its welcome. */
function connect(url: string, id: string, index: number, times: ConnectTimes[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let opened = started;
    const socket = new WebSocket(url, { headers: { "x-forwarded-for": addressOf(index) } });
    socket.once("open", () => {
      opened = performance.now();
      socket.send(JSON.stringify({ type: "hello", satelliteId: id, token: TOKEN, version: "bench", capabilities: [] }));
    });
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string; reason?: string };
      if (frame.type === "welcome") {
        times.push({ openMs: opened - started, welcomeMs: performance.now() - opened });
        resolve(socket);
      } else if (frame.type === "rejected") reject(new Error(`rejected: ${frame.reason}`));
    });
    socket.once("error", reject);
    socket.once("close", (code) => reject(new Error(`closed before welcome: ${code}`)));
  });
}

let retries = 0;

/** The whole fleet, `concurrency` connecting at a time; a refused connect is retried as an agent would. */
async function connectFleet(url: string, ids: readonly string[], times: ConnectTimes[]): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (next < ids.length) {
        const index = next++;
        for (let attempt = 1; ; attempt++) {
          try {
            sockets.push(await connect(url, ids[index]!, index, times));
            break;
          } catch (error) {
            if (attempt === 10) throw error;
            retries += 1;
            await sleep(100 * attempt);
          }
        }
      }
    }),
  );
  return sockets;
}

interface Server {
  name: "core" | "bare ws";
  url: string;
  child: ChildProcess;
}

interface Round {
  perSecond: number;
  cpuMsPerConnect: number;
  dbCpuMsPerConnect: number;
  fleetCpuMsPerConnect: number;
  transactionsPerConnect: number;
  /** Rows inserted, updated or deleted in the database per connect (every table: edges, history, heartbeats). */
  rowsPerConnect: number;
  /** Statements the database ran per connect (with --statement-stats; NaN without). */
  statementsPerConnect: number;
  /** The core's Syncs answered per connect (with --count-syncs; NaN without). */
  syncsPerConnect: number;
  /** The core only: recording the closes after every socket was cut. */
  closeCpuMsPerSatellite: number;
  closeDbCpuMsPerSatellite: number;
  /** Percentiles over the round's connects, ms. */
  openP50: number;
  welcomeP50: number;
  welcomeP90: number;
}

const percentile = (numbers: number[], fraction: number) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length * fraction)]!;
const median = (numbers: number[]) => percentile(numbers, 0.5);

async function main() {
  const statementStats = values["statement-stats"];
  const database = await openBenchDatabase({ statementStats });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // An idle client cut off while the database stops (57P01) must not end the run before its report.
  pool.on("error", () => undefined);
  const { rows } = await pool.query<{ id: string }>(
    // A threshold far beyond the run: no heartbeat is sent, and none may be reported lost.
    `INSERT INTO satellites (name, region, token_hash, offline_threshold_ms)
     SELECT 'bench-' || g, 'region-' || (g % 5), $1, 3600000 FROM generate_series(1, $2) AS g RETURNING id`,
    [hashToken(TOKEN), fleetSize],
  );
  const ids = rows.map((row) => row.id);
  const {
    rows: [backend],
  } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const postmaster = postmasterOf(backend!.pid);
  const databaseCpu = () => (postmaster === null ? 0 : processTreeCpuSeconds(postmaster));
  console.log(`satellite-connects: ${fleetSize} satellites, ${concurrency} connecting at a time, ${rounds} rounds, ${database.describe}`);

  // Both servers run with the node flags the product runs with (`npm start`, the bin's shebang):
  // spawned as `node <bin>` the shebang's are lost, and the core measured GC the product does not pay.
  const bareChild = spawn(process.execPath, [...PRODUCT_NODE_FLAGS, "--import", "tsx", BARE_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  const { port: barePort } = (await jsonLines(bareChild)()) as { port: number };
  const corePort = await findFreePort();
  const profile = values["cpu-prof-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof-dir"]}`] : [];
  const syncFile = values["count-syncs"] ? join(tmpdir(), `vantage-bench-syncs-${process.pid}`) : undefined;
  const coreSyncs = () => (syncFile === undefined ? Number.NaN : Number(readFileSync(syncFile, "utf8")));
  const coreChild = spawn(
    process.execPath,
    [
      ...PRODUCT_NODE_FLAGS,
      ...profile,
      ...(syncFile ? ["--import", COUNT_SYNCS] : []),
      VANTAGE_BIN,
      "server",
      "--port",
      String(corePort),
      "--log-format",
      "json",
      "--log-level",
      "warn",
    ],
    {
      env: { ...process.env, DATABASE_URL: database.url, VANTAGE_TRUSTED_PROXIES: "127.0.0.1", VANTAGE_BENCH_SYNC_FILE: syncFile ?? "" },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  for (let ready = false; !ready;) {
    ready = await fetch(`http://127.0.0.1:${corePort}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (!ready) await sleep(200);
  }
  const servers: Server[] = [
    { name: "bare ws", url: `ws://127.0.0.1:${barePort}/ws/satellite`, child: bareChild },
    { name: "core", url: `ws://127.0.0.1:${corePort}/ws/satellite`, child: coreChild },
  ];

  const connectedCount = async () =>
    (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM satellites WHERE last_connection_event = 'connected'")).rows[0]!.n;

  const measure = async (server: Server): Promise<Round> => {
    const cpu = () => sampleProcess(server.child.pid!).cpuSeconds;
    const counters = async () => ({
      xact: await committedTransactions(pool),
      rows: await rowsWritten(pool),
      statements: statementStats ? await statementsExecuted(pool) : Number.NaN,
      syncs: coreSyncs(),
    });
    const before = await counters();
    const [cpu0, db0, fleet0, started] = [cpu(), databaseCpu(), process.cpuUsage(), performance.now()];
    const times: ConnectTimes[] = [];
    const sockets = await connectFleet(server.url, ids, times);
    const seconds = (performance.now() - started) / 1000;
    const [cpu1, db1, fleet1] = [cpu(), databaseCpu(), process.cpuUsage(fleet0)];
    // pg_stat_database counts a session's commits when it reports them (within a second or so).
    await sleep(1000);
    const after = await counters();
    sockets.forEach((socket) => socket.terminate());
    let closeCpu = 0;
    let closeDb = 0;
    if (server.name === "core") {
      while ((await connectedCount()) > 0) await sleep(50);
      closeCpu = cpu() - cpu1;
      closeDb = databaseCpu() - db1;
    }
    await sleep(500); // the last closes' echoes settle before the next round's baseline
    const perConnect = (cpuSeconds: number) => (cpuSeconds * 1000) / fleetSize;
    return {
      perSecond: fleetSize / seconds,
      cpuMsPerConnect: perConnect(cpu1 - cpu0),
      dbCpuMsPerConnect: perConnect(db1 - db0),
      fleetCpuMsPerConnect: (fleet1.user + fleet1.system) / 1000 / fleetSize,
      transactionsPerConnect: (after.xact - before.xact) / fleetSize,
      rowsPerConnect: (after.rows - before.rows) / fleetSize,
      statementsPerConnect: (after.statements - before.statements) / fleetSize,
      syncsPerConnect: (after.syncs - before.syncs) / fleetSize,
      closeCpuMsPerSatellite: perConnect(closeCpu),
      closeDbCpuMsPerSatellite: perConnect(closeDb),
      openP50: median(times.map((time) => time.openMs)),
      welcomeP50: median(times.map((time) => time.welcomeMs)),
      welcomeP90: percentile(
        times.map((time) => time.welcomeMs),
        0.9,
      ),
    };
  };

  const results = new Map<Server["name"], Round[]>(servers.map((server) => [server.name, []]));
  const lines: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Alternating which goes first, so a drift of the machine's load favours neither.
    for (const server of round % 2 === 1 ? servers : [...servers].reverse()) {
      process.stderr.write(`… round ${round}: ${server.name}\n`);
      const result = await measure(server);
      results.get(server.name)!.push(result);
      lines.push(
        `round ${round} ${server.name.padEnd(7)} ${result.perSecond.toFixed(0).padStart(5)} connects/s, ${result.cpuMsPerConnect.toFixed(2)} CPU ms/connect` +
          `, open p50 ${result.openP50.toFixed(0)} ms, hello → welcome p50 ${result.welcomeP50.toFixed(0)} / p90 ${result.welcomeP90.toFixed(0)} ms` +
          (server.name === "core"
            ? `, database ${result.dbCpuMsPerConnect.toFixed(2)} ms, ${result.transactionsPerConnect.toFixed(3)} tx/connect, ${result.rowsPerConnect.toFixed(2)} rows written` +
              (statementStats ? `, ${result.statementsPerConnect.toFixed(2)} statements` : "") +
              (syncFile ? `, ${result.syncsPerConnect.toFixed(3)} syncs` : "") +
              ` per connect; closes ${result.closeCpuMsPerSatellite.toFixed(2)} + database ${result.closeDbCpuMsPerSatellite.toFixed(2)} CPU ms each`
            : ""),
      );
    }
  }

  await stopChild(coreChild);
  if (syncFile) rmSync(syncFile, { force: true });
  await stopChild(bareChild);
  await pool.end();
  await database.close();

  const core = results.get("core")!;
  const bare = results.get("bare ws")!;
  const of = (list: Round[], field: keyof Round) => median(list.map((round) => round[field]));
  console.log(lines.join("\n"));
  console.log(
    table([
      {
        "": "connects/s (median)",
        core: of(core, "perSecond").toFixed(0),
        "bare ws": of(bare, "perSecond").toFixed(0),
        "core / bare": (of(core, "perSecond") / of(bare, "perSecond")).toFixed(2),
      },
      {
        "": "server CPU ms per connect",
        core: of(core, "cpuMsPerConnect").toFixed(2),
        "bare ws": of(bare, "cpuMsPerConnect").toFixed(2),
        "core / bare": (of(core, "cpuMsPerConnect") / of(bare, "cpuMsPerConnect")).toFixed(2),
      },
      {
        "": "+ database CPU ms per connect",
        core: (of(core, "cpuMsPerConnect") + of(core, "dbCpuMsPerConnect")).toFixed(2),
        "bare ws": of(bare, "cpuMsPerConnect").toFixed(2),
        "core / bare": ((of(core, "cpuMsPerConnect") + of(core, "dbCpuMsPerConnect")) / of(bare, "cpuMsPerConnect")).toFixed(2),
      },
      {
        "": "fleet CPU ms per connect",
        core: of(core, "fleetCpuMsPerConnect").toFixed(2),
        "bare ws": of(bare, "fleetCpuMsPerConnect").toFixed(2),
        "core / bare": (of(core, "fleetCpuMsPerConnect") / of(bare, "fleetCpuMsPerConnect")).toFixed(2),
      },
    ]),
  );
  console.log(`${retries} connects retried`);
}

await main();
