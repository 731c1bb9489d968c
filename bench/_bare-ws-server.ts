// The baseline of bench/satellite-fleet: a bare `ws` server doing the least a gateway must
// do (answer hello with welcome, parse every heartbeat), with no database. Prints its port.
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";

const heartbeatIntervalMs = Number(process.env.HEARTBEAT_MS ?? 15_000);
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws/satellite", maxPayload: 1024 * 1024 });
let heartbeats = 0;

server.on("connection", (socket) => {
  socket.on("message", (data) => {
    const frame = JSON.parse(String(data)) as { type: string };
    if (frame.type === "hello") {
      socket.send(JSON.stringify({ type: "welcome", sessionId: randomUUID(), heartbeatIntervalMs, assignments: [] }));
    } else if (frame.type === "heartbeat") {
      heartbeats += 1;
    }
  });
});

server.on("listening", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 })}\n`);
});

process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ heartbeats })}\n`);
  for (const client of server.clients) client.terminate();
  server.close(() => process.exit(0));
});
