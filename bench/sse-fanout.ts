// Live events fan-out: N SSE clients (default 1,000) on one core while another core, in a process
// of its own (bench/_sse-writer.ts), commits entity changes at a steady rate (default 200/s); each change timed from its commit to its
// arrival at every client. Beside it, the baseline: a bare Node HTTP server writing the same
// frames to the same clients at the same rate (no database, no NOTIFY). Goal: p99 < 100 ms.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import { silentLogger } from "../packages/server/src/log.ts";
import { startCore } from "../packages/server/src/main.ts";
import { fileURLToPath } from "node:url";
import { CREATE_BENCH_THINGS, benchThingEntity } from "./_bench-things.ts";
import { paced } from "./_pacing.ts";
import { openBenchDatabase, table } from "./_database.ts";
import { jsonLines } from "./_process.ts";

const WRITER = fileURLToPath(new URL("./_sse-writer.ts", import.meta.url));

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    rate: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    workers: { type: "string", default: "2" },
  },
});
const clientCount = Number(values.clients);
const rate = Number(values.rate);
const measuredMs = Number(values.seconds) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const workerCount = Math.min(Number(values.workers), clientCount);
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const now = () => performance.timeOrigin + performance.now();

interface Clients {
  /** Starts recording arrivals (after the warm-up). */
  record(): void;
  /** Stops recording; every arrival as (event id, time). */
  report(): Promise<Array<{ seqs: Float64Array; times: Float64Array }>>;
  close(): Promise<void>;
}

/** `clientCount` SSE clients spread over worker threads; resolves once every one is ready (has its `ready` event). */
async function openClients(url: string): Promise<Clients> {
  const workers = Array.from({ length: workerCount }, (_, w) => {
    const count = Math.floor(clientCount / workerCount) + (w < clientCount % workerCount ? 1 : 0);
    return new Worker(new URL("./_sse-clients.mjs", import.meta.url), { workerData: { url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, count } });
  });
  const next = (worker: Worker, type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.type === "error") reject(new Error(String(message.message)));
        if (message.type !== type) return;
        worker.off("message", onMessage);
        resolve(message);
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  await Promise.all(workers.map((worker) => next(worker, "ready")));
  return {
    record: () => workers.forEach((worker) => worker.postMessage("record")),
    report: () =>
      Promise.all(
        workers.map(async (worker) => {
          const reply = next(worker, "report");
          worker.postMessage("report");
          const { seqs, times } = (await reply) as { seqs: Float64Array; times: Float64Array };
          return { seqs, times };
        }),
      ),
    close: async () => {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise((resolve) => {
              worker.once("exit", resolve);
              worker.postMessage("close");
            }),
        ),
      );
    },
  };
}

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/** Latencies of every arrival of an event sent (or committed) during the measurement, in ms. */
/**
 * The main thread's busy share over the measured window: it holds the server (and, for the core,
 * the writer), while the clients live in worker threads — so this is the serving side's cost.
 */
type Busy = ReturnType<typeof performance.eventLoopUtilization>;

function summarize(
  name: string,
  arrivals: Array<{ seqs: Float64Array; times: Float64Array }>,
  sentAt: Map<number, number>,
  busy: Busy,
): Record<string, string | number> {
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
    "main thread busy": `${(busy.utilization * 100).toFixed(0)} %`,
    "busy µs / arrival": latencies.length === 0 ? "—" : ((busy.active * 1000) / latencies.length).toFixed(2),
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
  const send = (seq: number) => {
    const frame = sampleFrame(seq);
    for (const response of responses) response.write(frame);
  };
  const warm = await paced(rate, warmupMs, send, 1);
  clients.record();
  const busyFrom = performance.eventLoopUtilization();
  await paced(
    rate,
    measuredMs,
    (seq) => {
      sentAt.set(seq, now());
      send(seq);
    },
    warm + 1,
  );
  const busy = performance.eventLoopUtilization(busyFrom);
  await sleep(500);
  const arrivals = await clients.report();
  await clients.close();
  await new Promise((resolve) => server.close(resolve));
  return { ...summarize("bare node:http", arrivals, sentAt, busy), "clients cut": "—" };
}

async function vantage(databaseUrl: string): Promise<Record<string, string | number>> {
  const logger = silentLogger();
  const core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN }, logger, {
    automationWorker: false,
  });
  await core.database.pool.query(CREATE_BENCH_THINGS);
  core.entities.defineEntity(benchThingEntity(core.database.pool));
  const clients = await openClients(`${core.url}/api/v1/events?kind=bench-thing`);

  // The writer is another core in its own process (its own pool and registry): its changes reach
  // this one by NOTIFY, and its CPU is not the measured event loop's.
  const writer = spawn(
    process.execPath,
    ["--import", "tsx", WRITER, "--database-url", databaseUrl, "--rate", String(rate), "--warmup-ms", String(warmupMs), "--measured-ms", String(measuredMs)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const nextLine = jsonLines(writer);
  await nextLine(); // warmed up
  // Arrivals of warm-up changes are recorded too, and left out: only measured seqs are in `sentAt`.
  clients.record();
  const busyFrom = performance.eventLoopUtilization();
  const sentAt = new Map<number, number>();
  for (let line = await nextLine(); !line.done; line = await nextLine()) sentAt.set(line.seq as number, line.at as number);
  const busy = performance.eventLoopUtilization(busyFrom);
  await once(writer, "exit");
  await sleep(1000);
  const arrivals = await clients.report();
  // Clients the core cut off for not reading (their later changes are missing from the arrivals).
  const metrics = await (await fetch(`${core.url}/metrics`)).text();
  const cut = /vantage_event_stream_closed_total\{reason="slow_client"\} (\d+)/.exec(metrics)?.[1] ?? "?";
  await clients.close();
  await core.stop();
  return { ...summarize("vantage core", arrivals, sentAt, busy), "clients cut": cut };
}

const database = await openBenchDatabase();
try {
  const rows = [await baseline(), await vantage(database.url)];
  console.log(
    `sse-fanout: ${database.describe}; ${clientCount} clients over ${workerCount} worker threads; ${rate} changes/s for ${values.seconds} s after ${values.warmup} s warm-up`,
  );
  console.log("latency: from the change's commit (the writer's mutate resolved) to its arrival at a client; baseline: from the write to the sockets");
  console.log(table(rows));
} finally {
  await database.close();
}
