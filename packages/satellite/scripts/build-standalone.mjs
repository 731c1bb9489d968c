#!/usr/bin/env node
// Builds the satellite agent as one JavaScript file that runs with Node.js alone, for the hosts
// satellites run on (another region, a private network) where a checkout with its node_modules
// is more than is wanted: `npm run build:satellite [-- --outfile PATH]`, then copy the file there
// and run `node vantage-satellite.mjs --url … --id … --token …`. Every dependency is bundled;
// what Node.js has built in stays out.
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const { values } = parseArgs({ options: { outfile: { type: "string" } } });
const outfile = values.outfile ?? fileURLToPath(new URL("../dist/vantage-satellite.mjs", import.meta.url));

await build({
  entryPoints: [fileURLToPath(new URL("../src/run.ts", import.meta.url))],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  // The bundled CommonJS dependencies (pino, ws, commander) call require(): give the module one.
  banner: {
    js: '#!/usr/bin/env node\nimport { createRequire as vantageCreateRequire } from "node:module";\nconst require = vantageCreateRequire(import.meta.url);',
  },
  logLevel: "warning",
});
console.log(`built ${outfile}`);
