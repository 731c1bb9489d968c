// Live events fan-out: N SSE clients (default 1,000) on one core while another core, in a process
// of its own (bench/_sse-writer.ts), commits entity changes at a steady rate (default 200/s); each change timed from its commit to its
// arrival at every client. Beside it, the baseline: a bare Node HTTP server writing the same
// frames to the same clients at the same rate (no database, no NOTIFY). Goal: p99 < 100 ms.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import { silentLogger } from "../packages/server/src/log.ts";
import { startCore } from "../packages/server/src/main.ts";
import { fileURLToPath } from "node:url";
import { CREATE_BENCH_THINGS, benchThingEntity } from "./_bench-things.ts";
import { paced } from "./_pacing.ts";
import { openBenchDatabase, table } from "./_database.ts";
import { jsonLines } from "./_process.ts";
import type pg from "pg";

const WRITER = fileURLToPath(new URL("./_sse-writer.ts", import.meta.url));
const CLIENTS = fileURLToPath(new URL("./_sse-client-process.mjs", import.meta.url));

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    rate: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    "client-processes": { type: "string", default: "1" },
    /** Which servers to run: `bare,core` (both, the default), or one of them (e.g. to profile the core alone). */
    servers: { type: "string", default: "bare,core" },
    /** The core's flush tick (its default when absent; 0 writes each batch the follower reads at once). */
    "flush-ms": { type: "string" },
    /** Changes the writer commits per transaction (rate / this transactions a second): for a machine too loaded to commit 200 a second. */
    "per-commit": { type: "string", default: "1" },
  },
});
const clientCount = Number(values.clients);
const rate = Number(values.rate);
const measuredMs = Number(values.seconds) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const processCount = Math.min(Number(values["client-processes"]), clientCount);
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const now = () => performance.timeOrigin + performance.now();

interface Arrivals {
  seqs: Float64Array;
  times: Float64Array;
  /** The client process's CPU share over the recorded window (1 = one CPU). */
  busy: number;
}

interface Clients {
  /** Starts recording arrivals (after the warm-up). */
  record(): void;
  /** Resolves once arrivals stop coming (none for three seconds), or after two minutes. */
  settled(): Promise<void>;
  /** Stops recording; every arrival as (event id, time), per client process. */
  report(): Promise<Arrivals[]>;
  close(): Promise<void>;
}

/**
 * `clientCount` SSE clients as raw sockets in `processCount` child processes (not threads of
 * this one: the core's process holds nothing but the core); resolves once every one has its
 * `ready` event.
 */
async function openClients(url: string): Promise<Clients> {
  const { hostname, port, pathname, search } = new URL(url);
  const children = Array.from({ length: processCount }, (_, p) => {
    const count = Math.floor(clientCount / processCount) + (p < clientCount % processCount ? 1 : 0);
    const setup = { host: hostname, port: Number(port), path: pathname + search, authorization: `Bearer ${ADMIN_TOKEN}`, count };
    return fork(CLIENTS, [JSON.stringify(setup)], { serialization: "advanced", execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  });
  const next = (child: ChildProcess, type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.type === "error") reject(new Error(String(message.message)));
        if (message.type !== type) return;
        child.off("message", onMessage);
        resolve(message);
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`a client process exited (${code}) while waiting for ${type}`)));
    });
  await Promise.all(children.map((child) => next(child, "ready")));
  return {
    record: () => children.forEach((child) => child.send("record")),
    settled: async () => {
      const count = async () => {
        const counts = await Promise.all(
          children.map((child) => {
            const reply = next(child, "count");
            child.send("count");
            return reply;
          }),
        );
        return counts.reduce((sum, { received }) => sum + (received as number), 0);
      };
      // Late arrivals on a loaded machine come seconds after the last commit: wait them out.
      // (A starved core can pause for a second: three without one arrival end the wait.)
      for (let last = -1, now = await count(), waited = 0; now !== last && waited < 40; waited++) {
        await sleep(3000);
        [last, now] = [now, await count()];
      }
    },
    report: () =>
      Promise.all(
        children.map(async (child) => {
          const reply = next(child, "report");
          child.send("report");
          return (await reply) as unknown as Arrivals;
        }),
      ),
    close: async () => {
      await Promise.all(
        children.map((child) => {
          const exited = once(child, "exit");
          child.send("close");
          return exited;
        }),
      );
    },
  };
}

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/**
 * What serving cost over the measured window: this process holds only the server (the clients
 * and the writer are processes of their own), so its main thread's busy share is the server's
 * event loop, and its CPU share adds what runs beside it (GC threads, libuv's pool).
 */
interface ServerUsage {
  loop: ReturnType<typeof performance.eventLoopUtilization>;
  cpuShare: number;
  cpuMs: number;
  /** How late the event loop ran timers (p99, max ms): a stall delays every change in flight. */
  loopDelay: { p99: number; max: number };
  /** Garbage collection's pauses: their sum and the longest (ms). */
  gc: { totalMs: number; maxMs: number };
}

function measureServer(): () => ServerUsage {
  const loopFrom = performance.eventLoopUtilization();
  const cpuFrom = process.cpuUsage();
  const wallFrom = performance.now();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const gc = { totalMs: 0, maxMs: 0 };
  const gcObserver = new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) {
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  return () => {
    delay.disable();
    gcObserver.disconnect();
    const cpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpuFrom));
    return {
      loop: performance.eventLoopUtilization(loopFrom),
      cpuShare: cpuMs / (performance.now() - wallFrom),
      cpuMs,
      // No sample when the loop never got back to the monitor's timer (a saturated loop).
      loopDelay: delay.count === 0 ? { p99: NaN, max: NaN } : { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
      gc,
    };
  };
}

const percent = (share: number) => `${(share * 100).toFixed(0)} %`;

/** Latencies of every arrival of an event sent (or committed) during the measurement, and what serving them cost. */
function summarize(name: string, arrivals: Arrivals[], sentAt: Map<number, number>, usage: ServerUsage): Record<string, string | number> {
  const latencies: number[] = [];
  for (const { seqs, times } of arrivals) {
    for (let i = 0; i < seqs.length; i++) {
      const sent = sentAt.get(seqs[i]!);
      if (sent !== undefined) latencies.push(times[i]! - sent);
    }
  }
  const sorted = Float64Array.from(latencies).sort();
  const expected = sentAt.size * clientCount;
  return {
    server: name,
    events: sentAt.size,
    "events/s": Math.round(sentAt.size / (measuredMs / 1000)),
    "arrivals / expected": `${latencies.length} / ${expected}`,
    "p50 ms": percentile(sorted, 50).toFixed(1),
    "p99 ms": percentile(sorted, 99).toFixed(1),
    "max ms": (sorted.at(-1) ?? NaN).toFixed(1),
    "server loop busy": percent(usage.loop.utilization),
    "server CPU": percent(usage.cpuShare),
    "loop µs / arrival": latencies.length === 0 ? "—" : ((usage.loop.active * 1000) / latencies.length).toFixed(2),
    "CPU µs / arrival": latencies.length === 0 ? "—" : ((usage.cpuMs * 1000) / latencies.length).toFixed(2),
    "clients CPU": percent(arrivals.reduce((sum, { busy }) => sum + busy, 0)),
    "loop delay p99 / max ms": `${usage.loopDelay.p99.toFixed(0)} / ${usage.loopDelay.max.toFixed(0)}`,
    "GC ms (longest)": `${usage.gc.totalMs.toFixed(0)} (${usage.gc.maxMs.toFixed(1)})`,
  };
}

/** A frame like a small entity change, as the core sends it. */
const sampleFrame = (seq: number) =>
  `id: ${seq}\nevent: change\ndata: ${JSON.stringify({ seq, changeId: "00000000-0000-4000-8000-000000000000", kind: "bench-thing", id: `thing-${seq % 100}`, prev: { value: seq - 1 }, next: { value: seq }, delta: { value: seq }, changedFields: ["value"], actor: SYSTEM_ACTOR, cause: null, occurredAt: new Date().toISOString() })}\n\n`;

async function baseline(): Promise<Record<string, string | number>> {
  const responses = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.write("id: 0\nevent: ready\ndata: {}\n\n");
    responses.add(response);
    request.on("close", () => responses.delete(response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const clients = await openClients(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const sentAt = new Map<number, number>();
  // Each send yields to the event loop after its writes, as a server does between events: a
  // loop that fell behind and never yielded kept every write in memory (sockets never drained)
  // until the run ended — seconds of latency that were the bench's, not node:http's.
  const send = (seq: number) => {
    const frame = sampleFrame(seq);
    for (const response of responses) response.write(frame);
    return new Promise<void>((resolve) => setImmediate(resolve));
  };
  // Recording from the start (as for the core): only measured seqs are in `sentAt`.
  clients.record();
  const warm = await paced(rate, warmupMs, send, 1);
  const usage = measureServer();
  await paced(
    rate,
    measuredMs,
    (seq) => {
      sentAt.set(seq, now());
      return send(seq);
    },
    warm + 1,
  );
  const served = usage();
  await clients.settled();
  const arrivals = await clients.report();
  await clients.close();
  await new Promise((resolve) => server.close(resolve));
  return { ...summarize("bare node:http", arrivals, sentAt, served), "clients cut": "—", "db tx / change": "—" };
}

/** When the core's change stream read each change (and began writing it out), and when the writes to every client ended. */
interface StageTimes {
  read: Map<number, number>;
  published: Map<number, number>;
}

/**
 * Where a change's latency goes, from its commit (the writer's time) to the core's read (NOTIFY,
 * the wait for the tick, the query), to the end of its batch's writes to every socket, to its
 * arrival at the clients (the last stage, p50 / p99 over arrivals).
 */
function stageRows(stages: StageTimes, sentAt: Map<number, number>, arrivals: Arrivals[]): Record<string, string>[] {
  const spans = (from: Map<number, number>, to: Map<number, number>) => {
    const values: number[] = [];
    for (const [seq, at] of to) {
      const start = from.get(seq);
      if (start !== undefined) values.push(at - start);
    }
    return Float64Array.from(values).sort();
  };
  const toArrival: number[] = [];
  for (const { seqs, times } of arrivals) {
    for (let i = 0; i < seqs.length; i++) {
      const flushed = stages.published.get(seqs[i]!);
      if (flushed !== undefined && sentAt.has(seqs[i]!)) toArrival.push(times[i]! - flushed);
    }
  }
  const row = (stage: string, sorted: Float64Array) => ({
    stage,
    n: String(sorted.length),
    "p50 ms": percentile(sorted, 50).toFixed(1),
    "p99 ms": percentile(sorted, 99).toFixed(1),
    "max ms": (sorted.at(-1) ?? NaN).toFixed(1),
  });
  return [
    row("commit → read by the follower", spans(sentAt, stages.read)),
    row("read → written to every socket", spans(stages.read, stages.published)),
    row("written → arrival (per client)", Float64Array.from(toArrival).sort()),
  ];
}

/** Names the measured changes that did not reach every client, and whether the core read and wrote them out (stderr). */
function reportShortfall(sentAt: Map<number, number>, arrivals: Arrivals[], stages: StageTimes): void {
  const counts = new Map<number, number>();
  for (const { seqs } of arrivals) for (const seq of seqs) counts.set(seq, (counts.get(seq) ?? 0) + 1);
  const short = [...sentAt.keys()].filter((seq) => (counts.get(seq) ?? 0) < clientCount);
  for (const seq of short.slice(0, 20)) {
    console.error(`change ${seq}: ${counts.get(seq) ?? 0} of ${clientCount} arrivals; read ${stages.read.has(seq)}, written out ${stages.published.has(seq)}`);
  }
}

/**
 * Transactions the database committed so far (every statement outside one counts): the writer's,
 * the core's follower, router and the rest. PostgreSQL reports them within about a second, so the
 * two readings around the measured window lag about alike.
 */
async function databaseTransactions(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ commits: string }>("SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()");
  return Number(rows[0]!.commits);
}

async function vantage(databaseUrl: string): Promise<{ row: Record<string, string | number>; stages: Record<string, string>[] }> {
  const logger = silentLogger();
  const stages: StageTimes = { read: new Map(), published: new Map() };
  const stamp = (into: Map<number, number>) => (items: readonly { position: { seq: number } }[]) => {
    const at = now();
    for (const item of items) into.set(item.position.seq, at);
  };
  const core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN }, logger, {
    automationWorker: false,
    events: {
      ...(values["flush-ms"] === undefined ? {} : { flushIntervalMs: Number(values["flush-ms"]) }),
      observer: { onRead: stamp(stages.read), onPublish: stamp(stages.published) },
    },
  });
  await core.database.pool.query(CREATE_BENCH_THINGS);
  core.entities.defineEntity(benchThingEntity(core.database.pool));
  const clients = await openClients(`${core.url}/api/v1/events?kind=bench-thing`);

  // Recording from before the first commit: a `record` sent at the end of the warm-up reached a
  // loaded client process after the first measured changes had (their arrivals went unrecorded).
  // Arrivals of warm-up changes are left out: only measured seqs are in `sentAt`.
  clients.record();
  // The writer is another core in its own process (its own pool and registry): its changes reach
  // this one by NOTIFY, and its CPU is not the measured event loop's.
  const writer = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      WRITER,
      "--database-url",
      databaseUrl,
      "--rate",
      String(rate),
      "--warmup-ms",
      String(warmupMs),
      "--measured-ms",
      String(measuredMs),
      "--per-commit",
      values["per-commit"],
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const nextLine = jsonLines(writer);
  await nextLine(); // warmed up
  const transactionsBefore = await databaseTransactions(core.database.pool);
  const usage = measureServer();
  const sentAt = new Map<number, number>();
  for (let line = await nextLine(); !line.done; line = await nextLine()) sentAt.set(line.seq as number, line.at as number);
  const served = usage();
  const transactionsAfter = await databaseTransactions(core.database.pool);
  await once(writer, "exit");
  await clients.settled();
  const arrivals = await clients.report();
  // Clients the core cut off for not reading (their later changes are missing from the arrivals).
  const metrics = await (await fetch(`${core.url}/metrics`)).text();
  const cut = /vantage_event_stream_closed_total\{reason="slow_client"\} (\d+)/.exec(metrics)?.[1] ?? "?";
  await clients.close();
  await core.stop();
  reportShortfall(sentAt, arrivals, stages);
  const perChange = sentAt.size === 0 ? "—" : ((transactionsAfter - transactionsBefore) / sentAt.size).toFixed(1);
  return {
    row: { ...summarize("vantage core", arrivals, sentAt, served), "clients cut": cut, "db tx / change": perChange },
    stages: stageRows(stages, sentAt, arrivals),
  };
}

const database = await openBenchDatabase();
try {
  const servers = new Set(values.servers.split(","));
  const rows = [];
  let stages: Record<string, string>[] | undefined;
  if (servers.has("bare")) rows.push(await baseline());
  if (servers.has("core")) {
    const core = await vantage(database.url);
    rows.push(core.row);
    stages = core.stages;
  }
  console.log(
    `sse-fanout: ${database.describe}; flush tick ${values["flush-ms"] ?? "default"} ms; ${values["per-commit"]} change(s) per commit; ${clientCount} clients (raw sockets) in ${processCount} client process(es); ${rate} changes/s for ${values.seconds} s after ${values.warmup} s warm-up`,
  );
  console.log("latency: from the change's commit (the writer's mutate resolved) to its arrival at a client; baseline: from the write to the sockets");
  console.log(table(rows));
  if (stages) console.log(`\nthe core's stages (measured changes):\n${table(stages)}`);
} finally {
  await database.close();
}
