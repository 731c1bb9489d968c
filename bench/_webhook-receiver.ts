// A webhook receiver in a process of its own (so its CPU is not the measured core's): counts
// the requests per `satelliteId` of their JSON body and per run (the `Idempotency-Key` is
// `<run>:<step>`). Prints `{ port }`, then answers each line on stdin: `report` →
// `{ received, distinct, duplicates, firstAt, lastAt }` (distinct satellites; duplicates:
// requests beyond the first of each run; wall clock, epoch ms; connections: TCP connections
// accepted, which a client keeping its connections opens once each), `arrivals` → `{ arrivals:
// [[run, at], …] }` (each request's run and when its headers arrived, epoch ms to the
// microsecond), `reset` → forgets everything.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";

const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
let counts = new Map<string, number>();
let runs = new Set<string>();
let received = 0;
let firstAt = 0;
let lastAt = 0;
let arrivals: Array<[string, number]> = [];
let connections = 0;

const server = createServer((request, response) => {
  // The executor sends `Idempotency-Key: <run>:<step>`.
  arrivals.push([String(request.headers["idempotency-key"] ?? "").split(":")[0]!, performance.timeOrigin + performance.now()]);
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const at = Date.now();
    let key = "";
    try {
      key = String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { satelliteId?: unknown }).satelliteId ?? "");
    } catch {
      key = "<not json>";
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
    runs.add(String(request.headers["idempotency-key"] ?? ""));
    received++;
    firstAt ||= at;
    lastAt = at;
    response.end();
  });
});
server.keepAliveTimeout = 60_000;
server.on("connection", () => connections++);
server.listen(0, "127.0.0.1", () => print({ port: (server.address() as AddressInfo).port }));

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "report") print({ received, distinct: counts.size, duplicates: received - runs.size, firstAt, lastAt, connections });
  if (line === "arrivals") print({ arrivals });
  if (line === "reset") {
    arrivals = [];
    counts = new Map();
    runs = new Set();
    received = 0;
    firstAt = 0;
    lastAt = 0;
    connections = 0;
    print({ reset: true });
  }
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
