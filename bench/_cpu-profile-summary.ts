// Summarises a V8 .cpuprofile (node --cpu-prof, e.g. check-throughput's --cpu-prof-dir) by self
// time: the top functions and the share of each module (our packages, node_modules packages,
// node internals, GC and the idle loop), so a profile is read in a terminal, not a browser.
// Usage: node --import tsx bench/_cpu-profile-summary.ts <file.cpuprofile> [--top 40] [--last SECONDS]
// --last: only the samples of the profile's last SECONDS (check-throughput stops the core right
// after its measured window, so `--last 20` is that window, without the warm-up's one-offs).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "40" }, last: { type: "string" } } });
if (positionals.length !== 1) {
  console.error("usage: node --import tsx bench/_cpu-profile-summary.ts <file.cpuprofile> [--top 40]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Profile;
const top = Number(values.top);

/** Where a frame's code lives: one of our packages, an npm package, node itself, or V8's own buckets. */
function moduleOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : `(${functionName || "native"})`;
  const ours = /\/packages\/([^/]+)\/src\/(?:([^/]+)\/)?/.exec(url);
  if (ours) return ours[2] && !ours[2].includes(".") ? `${ours[1]}/${ours[2]}` : ours[1]!;
  const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (npm) return `npm:${npm[1]}`;
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  return url;
}

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
const from = values.last === undefined ? -Infinity : profile.endTime - Number(values.last) * 1e6;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  if (at < from) continue;
  const id = profile.samples[i]!;
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
let total = 0;
let idle = 0;
const byFunction = new Map<string, number>();
const byModule = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id)!.callFrame;
  total += micros;
  if (frame.functionName === "(idle)") idle += micros;
  const where = frame.url ? `${frame.url.replace(/^.*\/(packages|node_modules)\//, "$1/")}:${frame.lineNumber + 1}` : "";
  const name = `${frame.functionName || "(anonymous)"} ${where}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  const module = moduleOf(frame);
  byModule.set(module, (byModule.get(module) ?? 0) + micros);
}
const busy = total - idle;
const share = (micros: number) => `${((micros / busy) * 100).toFixed(1).padStart(5)} %`;
const sorted = (map: Map<string, number>) => [...map].filter(([name]) => !name.includes("(idle)")).sort((a, b) => b[1] - a[1]);

console.log(
  `profile: ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)} %); shares below are of the busy time`,
);
console.log("\nby module (self time)");
for (const [name, micros] of sorted(byModule).slice(0, top)) console.log(`${share(micros)}  ${name}`);
console.log("\nby function (self time)");
for (const [name, micros] of sorted(byFunction).slice(0, top)) console.log(`${share(micros)}  ${name}`);
