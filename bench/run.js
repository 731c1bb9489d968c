#!/usr/bin/env node
// `npm run bench -- <name> [flags]`: runs bench/<name>.ts (through tsx) and prints its report.
//
// Benches that run cores in their own process (automation-latency, sse-fanout, ui-checks-list …)
// measure them with the runtime flags the product's core runs with (`npm start`, the bin's
// shebang: bench/_core-process.ts's PRODUCT_NODE_FLAGS): without them a bench's core had node's
// default young generation and paid more garbage collection than the product does. The bench
// is run again in a child node with them; BENCH_NODE_FLAGS replaces them ("" for node's
// defaults), as in bench/check-throughput.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

const benches = readdirSync(new URL(".", import.meta.url))
  .filter((file) => file.endsWith(".ts") && !file.startsWith("_"))
  .map((file) => file.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !benches.includes(name)) {
  console.error(`usage: npm run bench -- <name> [flags]\nbenchmarks: ${benches.join(", ")}`);
  process.exit(2);
}
register();

// Set in the child, so it runs the bench instead of starting another child.
const WITH_FLAGS = "VANTAGE_BENCH_WITH_NODE_FLAGS";
if (process.env[WITH_FLAGS] === undefined) {
  const { PRODUCT_NODE_FLAGS } = await import("./_core-process.ts");
  const flags = process.env.BENCH_NODE_FLAGS === undefined ? PRODUCT_NODE_FLAGS : process.env.BENCH_NODE_FLAGS.split(" ").filter(Boolean);
  // This process's own flags (e.g. --cpu-prof) go to the child, which is the one to profile.
  const child = spawn(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), name, ...args], {
    stdio: "inherit",
    env: { ...process.env, [WITH_FLAGS]: flags.join(" ") },
  });
  // A bench stopped from outside (timeout, Ctrl-C in another terminal) stops its child too.
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  process.argv = [process.argv[0], name, ...args];
  await import(`./${name}.ts`);
}
