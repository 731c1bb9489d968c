// The baseline of bench/check-throughput: the same requests an http check makes, through the
// same outbound client (undici, a fresh connection per exchange, the core's address policy),
// in a loop of CONCURRENCY at once for SECONDS after WARMUP_SECONDS (the core it is compared
// with is measured warm too), with no scheduler, no probe library and no database. Prints
// {requests, failures, seconds, cpuSeconds, failuresByKind} (cpuSeconds: the measured part's own
// CPU) when done.
import { createOutboundClient } from "@vantage/outbound";
import { coreAddressPolicy } from "@vantage/probes";
import { MAX_EXCERPT_BYTES } from "@vantage/protocol";

const url = process.env.TARGET_URL!;
const concurrency = Number(process.env.CONCURRENCY ?? 500);
const ms = Number(process.env.SECONDS ?? 10) * 1000;
const timeoutMs = Number(process.env.TIMEOUT_MS ?? 10_000);
const warmupMs = Number(process.env.WARMUP_SECONDS ?? 5) * 1000;

const outbound = createOutboundClient({ userAgent: "Vantage/bench" });
const addressPolicy = coreAddressPolicy("set VANTAGE_ALLOW_PRIVATE_TARGETS=true");
// What probeHttp asks of the client for a GET that asserts nothing on the body.
const request = () => outbound.request({ url, method: "GET", timeoutMs, redirect: "answer", maxBodyBytes: MAX_EXCERPT_BYTES, addressPolicy });
const loop = (until: number, done: (failure: string | undefined) => void) =>
  Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const result = await request();
        done(result.ok ? undefined : result.kind);
      }
    }),
  );

await loop(performance.now() + warmupMs, () => undefined);
let requests = 0;
let failures = 0;
const failuresByKind: Record<string, number> = {};
const cpuBefore = process.cpuUsage();
const started = performance.now();
await loop(started + ms, (failure) => {
  if (failure === undefined) requests++;
  else {
    failures++;
    failuresByKind[failure] = (failuresByKind[failure] ?? 0) + 1;
  }
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({ requests, failures, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, failuresByKind })}\n`);
