// Simulated satellites in a process of their own (raw `ws` clients, so their CPU is not the
// measured cores'): every satellite of the database connects (round robin over `--urls`,
// each from an address of its own through the trusted proxy header) and heartbeats. Prints
// `{ connected, perSecond }` once all are welcomed; then on stdin `silence` → every one stops
// heartbeating at once, sockets left open (only the heartbeat monitor can notice), and it
// prints `{ silencedAt }` (epoch ms).
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import WebSocket from "ws";

const { values } = parseArgs({
  options: {
    "database-url": { type: "string" },
    urls: { type: "string" },
    token: { type: "string" },
    "heartbeat-ms": { type: "string" },
    concurrency: { type: "string", default: "200" },
  },
});
const urls = values.urls!.split(",");
const heartbeatMs = Number(values["heartbeat-ms"]);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
let silent = false;
const sockets: WebSocket[] = [];

const addressOf = (index: number) => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;

function connect(id: string, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(urls[index % urls.length]!, { headers: { "x-forwarded-for": addressOf(index) } });
    socket.once("open", () => socket.send(JSON.stringify({ type: "hello", satelliteId: id, token: values.token, version: "bench", capabilities: [] })));
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string; reason?: string };
      if (frame.type === "welcome") {
        sockets.push(socket);
        const started = performance.now();
        const beat = () => {
          if (!silent && socket.readyState === WebSocket.OPEN)
            socket.send(JSON.stringify({ type: "heartbeat", uptimeSeconds: (performance.now() - started) / 1000, inFlight: 0 }));
        };
        setTimeout(() => {
          beat();
          setInterval(beat, heartbeatMs).unref();
        }, Math.random() * heartbeatMs).unref();
        resolve();
      } else if (frame.type === "rejected") reject(new Error(`rejected: ${frame.reason}`));
    });
    socket.once("error", reject);
    socket.once("close", (code) => reject(new Error(`closed before welcome: ${code}`)));
  });
}

const pool = new pg.Pool({ connectionString: values["database-url"], max: 1 });
const { rows } = await pool.query<{ id: string }>("SELECT id FROM satellites ORDER BY name");
await pool.end();
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Number(values.concurrency) }, async () => {
    while (next < rows.length) {
      const index = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          await connect(rows[index]!.id, index);
          break;
        } catch (error) {
          if (attempt === 10) throw error;
          await sleep(100 * attempt);
        }
      }
    }
  }),
);
print({ connected: sockets.length, perSecond: rows.length / ((performance.now() - started) / 1000) });

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "silence") {
    silent = true;
    print({ silencedAt: Date.now() });
  }
});
process.on("SIGTERM", () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});
