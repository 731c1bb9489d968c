#!/usr/bin/env node
// `npm run bench -- <name> [flags]`: runs bench/<name>.ts (through tsx) and prints its report.
//
// BENCH_NODE_FLAGS="--max-semi-space-size=64" (as in bench/check-throughput) runs the bench in a
// child node with those flags: for benches whose cores run in this process (automation-latency,
// sse-fanout, ui-checks-list …) those are the cores' flags. Not the default: measured with the
// product's flag, automation-latency's core used no less CPU per change, while its driver pushed
// faster and the executor fell behind (docs/benchmarks/2026-12-04-webhook-cpu.md), so numbers would no longer
// compare with every earlier note's.
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

// Set in the child, so it runs the bench instead of starting another child.
const WITH_FLAGS = "VANTAGE_BENCH_WITH_NODE_FLAGS";
const flags = process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
if (flags.length > 0 && process.env[WITH_FLAGS] === undefined) {
  // This process's own flags (e.g. --cpu-prof) go to the child, which is the one to profile.
  const child = spawn(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), name, ...args], {
    stdio: "inherit",
    env: { ...process.env, [WITH_FLAGS]: flags.join(" ") },
  });
  // A bench stopped from outside (timeout, Ctrl-C in another terminal) stops its child too.
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  register();
  process.argv = [process.argv[0], name, ...args];
  await import(`./${name}.ts`);
}
