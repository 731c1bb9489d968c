// CPU per request of the outbound client as the webhook action uses it (a JSON POST over a kept
// connection, a deadline, the caller's long-lived signal, the first 2 KiB of the answer), against
// a bare node:http keep-alive request to the same receiver: what the client costs of its own.
// The receiver runs in a process of its own (bench/_webhook-receiver.ts), so this process's CPU
// is the client's alone. Rounds alternate the two paths; each prints CPU µs per request (user +
// system, process.cpuUsage) and requests per second. `--compare <path of another checkout's
// packages/outbound/src/index.ts>` adds the path `other`: that checkout's client in this same
// process, alternating with this one's, so a base and a branch meet the same load (the host's
// other processes move a run's CPU per request by ±30 %; rounds minutes apart are no pair).
// Usage: npm run bench -- outbound-requests [--requests 4000] [--in-flight 8] [--rounds 3] [--paths outbound,bare] [--compare PATH]
import { Agent, request as httpRequest } from "node:http";
import { parseArgs } from "node:util";
import { createOutboundClient } from "@vantage/outbound";
import { startChild } from "./_core-process.ts";
import { stopChild } from "./_process.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "4000" },
    "in-flight": { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    paths: { type: "string", default: "outbound,bare" },
    warmup: { type: "string", default: "1000" },
    compare: { type: "string" },
  },
});
const requests = Number(values.requests);
const inFlight = Number(values["in-flight"]);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);

const receiver = startChild(["bench/_webhook-receiver.ts"]);
const { port } = (await receiver.next()) as { port: number };
const url = `http://127.0.0.1:${port}/hook`;
// What the webhook action sends: a trigger's payload, its Content-Type and Idempotency-Key.
const body = JSON.stringify({ satelliteId: "3f0b8a52-5d0e-4a3c-9d8e-2b7c1f6a9e10", checkId: "c-1", state: "down", at: new Date().toISOString() });
const headers = (i: number) => ({ "Content-Type": "application/json", "Idempotency-Key": `0193a6f2-7c1e-7b3d-9a4e-${String(i).padStart(12, "0")}:0` });

const client = createOutboundClient({ userAgent: "Vantage/bench" });
// The executor's signal: one per worker, alive for the process's lifetime.
const workerSignal = new AbortController().signal;

const other = values.compare
  ? ((await import(values.compare)) as { createOutboundClient: typeof createOutboundClient }).createOutboundClient({ userAgent: "Vantage/bench" })
  : undefined;

const viaOutbound = (i: number) => webhookLike(client, i);
const viaOther = (i: number) => webhookLike(other!, i);

async function webhookLike(through: typeof client, i: number): Promise<void> {
  const result = await through.request({
    url,
    method: "POST",
    headers: headers(i),
    body,
    timeoutMs: 10_000,
    maxBodyBytes: 2_048,
    signal: workerSignal,
    reuseConnection: true,
  });
  if (!result.ok) throw new Error(`outbound: ${result.message}`);
}

const bareAgent = new Agent({ keepAlive: true, scheduling: "lifo" });
function viaBare(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: "127.0.0.1", port, path: "/hook", method: "POST", agent: bareAgent, headers: { ...headers(i), "user-agent": "Vantage/bench" } },
      (response) => {
        response.on("data", () => {});
        response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`bare: ${response.statusCode}`))));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const PATHS: Record<string, (i: number) => Promise<void>> = { outbound: viaOutbound, bare: viaBare, other: viaOther };
const chosen = [...values.paths.split(","), ...(other ? ["other"] : [])].map((name) => {
  const send = PATHS[name];
  if (!send) throw new Error(`--paths: unknown path "${name}" (known: ${Object.keys(PATHS).join(", ")})`);
  return [name, send] as const;
});

/** `count` requests, `inFlight` at a time. */
async function drive(send: (i: number) => Promise<void>, count: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await send(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

for (const [, send] of chosen) await drive(send, warmup);
const results = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const [name, send] of chosen) {
    const before = process.cpuUsage();
    const started = performance.now();
    await drive(send, requests);
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(before);
    const perRequest = (used.user + used.system) / requests;
    results.set(name, [...(results.get(name) ?? []), perRequest]);
    console.log(
      `round ${round + 1} ${name.padEnd(8)} ${perRequest.toFixed(1).padStart(6)} µs CPU / request  ${Math.round((requests / elapsed) * 1000)} requests/s`,
    );
  }
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
for (const [name, list] of results)
  console.log(`${name.padEnd(8)} median ${median(list).toFixed(1)} µs CPU / request (${requests} requests, ${inFlight} in flight, ${rounds} rounds)`);

client.close();
other?.close();
bareAgent.destroy();
await stopChild(receiver.process);
