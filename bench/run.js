#!/usr/bin/env node
// `npm run bench -- <name> [flags]`: runs bench/<name>.ts (through tsx) and prints its report.
import { readdirSync } from "node:fs";
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
process.argv = [process.argv[0], name, ...args];
await import(`./${name}.ts`);
