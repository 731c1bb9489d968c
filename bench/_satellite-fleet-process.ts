// Simulated satellites in a process of their own (raw `ws` clients, so their CPU is not the
// measured cores'): every satellite of the database connects (round robin over `--urls`,
// each from an address of its own through the trusted proxy header) and heartbeats. Prints
// `{ connected, perSecond }` once all are welcomed; then on stdin `silence` → every one stops
// heartbeating at once, sockets left open (only the heartbeat monitor can notice), and it
// prints `{ silencedAt }` (epoch ms).
//
// For a chaos run: `--reconnect` makes a satellite whose connection dropped (its core was
// killed) connect again to the next url, as the agent does; `--churn-per-second N` closes N
// random satellites' connections a second cleanly and reconnects them a moment later (each
// a `disconnected` and a `connected` change). On stdin `calm` stops the churn and prints
// `{ calm: true, online }` once every satellite is connected again.
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
    reconnect: { type: "boolean", default: false },
    "churn-per-second": { type: "string", default: "0" },
  },
});
const urls = values.urls!.split(",");
const heartbeatMs = Number(values["heartbeat-ms"]);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
/** How long a churned satellite stays away before it connects again. */
const CHURN_AWAY_MS = 300;
let silent = false;
let stopping = false;

const addressOf = (index: number) => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;

/** One simulated satellite: its current socket (welcomed) if any, and how many times it connected. */
class Member {
  socket: WebSocket | null = null;
  connects = 0;
  /** Set while a clean close of ours is under way: the reconnect is the churn's, not the drop handler's. */
  churning = false;

  constructor(
    readonly id: string,
    readonly index: number,
  ) {}

  get online(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects (to the next url each attempt) until welcomed; rejects after 10 failures unless reconnecting forever. */
  async connect(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connectOnce(urls[(this.index + this.connects + attempt - 1) % urls.length]!);
      } catch (error) {
        if (stopping) return;
        if (attempt === 10 && !values.reconnect) throw error;
        await sleep(Math.min(100 * attempt, 2000));
      }
    }
  }

  private connectOnce(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { "x-forwarded-for": addressOf(this.index) } });
      let welcomed = false;
      socket.once("open", () => socket.send(JSON.stringify({ type: "hello", satelliteId: this.id, token: values.token, version: "bench", capabilities: [] })));
      socket.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { type: string; reason?: string };
        if (frame.type === "welcome") {
          welcomed = true;
          this.connects++;
          this.socket = socket;
          this.heartbeat(socket);
          resolve();
        } else if (frame.type === "rejected") reject(new Error(`rejected: ${frame.reason}`));
      });
      socket.once("error", (error) => {
        if (!welcomed) reject(error);
      });
      socket.once("close", (code) => {
        if (!welcomed) return reject(new Error(`closed before welcome: ${code}`));
        if (this.socket === socket) this.socket = null;
        // Its core went away (killed): connect again, like the agent.
        if (values.reconnect && !this.churning && !stopping) void this.connect();
      });
    });
  }

  private heartbeat(socket: WebSocket): void {
    const started = performance.now();
    const beat = () => {
      if (!silent && socket.readyState === WebSocket.OPEN)
        socket.send(JSON.stringify({ type: "heartbeat", uptimeSeconds: (performance.now() - started) / 1000, inFlight: 0 }));
    };
    const timer = setTimeout(() => {
      beat();
      const interval = setInterval(() => (socket.readyState === WebSocket.OPEN ? beat() : clearInterval(interval)), heartbeatMs);
      interval.unref();
    }, Math.random() * heartbeatMs);
    timer.unref();
  }

  /** Closes cleanly (a `disconnected`), then connects again after a moment (a `connected`). */
  async churn(): Promise<void> {
    const socket = this.socket;
    if (!socket || this.churning) return;
    this.churning = true;
    try {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000, "churn");
      });
      await sleep(CHURN_AWAY_MS);
      if (!stopping) await this.connect();
    } finally {
      this.churning = false;
    }
  }
}

const pool = new pg.Pool({ connectionString: values["database-url"], max: 1 });
const { rows } = await pool.query<{ id: string }>("SELECT id FROM satellites ORDER BY name");
await pool.end();
const members = rows.map((row, index) => new Member(row.id, index));
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Number(values.concurrency) }, async () => {
    while (next < members.length) await members[next++]!.connect();
  }),
);
print({ connected: members.filter((member) => member.online).length, perSecond: members.length / ((performance.now() - started) / 1000) });

const churnPerSecond = Number(values["churn-per-second"]);
const churnTimer = churnPerSecond > 0 ? setInterval(() => void members[Math.floor(Math.random() * members.length)]!.churn(), 1000 / churnPerSecond) : undefined;

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "silence") {
    silent = true;
    print({ silencedAt: Date.now() });
  }
  if (line === "calm") {
    clearInterval(churnTimer);
    void (async () => {
      while (members.some((member) => !member.online || member.churning)) await sleep(100);
      print({ calm: true, online: members.length });
    })();
  }
});
process.on("SIGTERM", () => {
  stopping = true;
  for (const member of members) member.socket?.terminate();
  process.exit(0);
});
