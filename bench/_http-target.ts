// The target of bench/check-throughput: a bare node:http server on 127.0.0.1 answering every
// request 200 with a short body, as a healthy endpoint does. Prints its port, then, on
// SIGTERM, the requests it answered.
import { createServer } from "node:http";

let answered = 0;
const body = '{"status":"ok"}';
const server = createServer((request, response) => {
  answered += 1;
  // The probe reads no body it does not assert on; the answer is whole at once.
  request.resume();
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
});
// Every check opens a fresh connection: the default backlog (511) is what a burst of them meets.
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 })}\n`);
});

process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ answered })}\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
