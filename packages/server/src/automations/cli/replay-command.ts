// `vantage replay -f automation.yaml --since 7d`: replays a draft (a definition, or an automation
// of a config bundle; or `--id` a saved automation) on a core over recorded history, with a
// progress bar on stderr, then prints a summary and a per-day histogram of would-be runs and
// skips (or the whole result with --json).
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { durationMs } from "@vantage/protocol";
import { type Command, Option } from "commander";
import { parseAllDocuments } from "yaml";
import { ConfigApiError, createConfigClient, formatIssue, loadBundle, resolveEnvReferences } from "../../config/index.ts";
import type { ReplayResult } from "../replay/replay-result.ts";
import type { ReplayJobView } from "../replay/replay-jobs.ts";

export interface ReplayIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (the progress bar redraws in place there). */
  isTTY: boolean;
  now: () => number;
  /** Pause between polls of the job. */
  pollMs?: number;
}

export interface ReplayFlags {
  url: string;
  token?: string;
  file?: string;
  id?: string;
  since: string;
  to?: string;
  json?: boolean;
  /** With -f on a config bundle: which of its automations (needed when it holds several). */
  name?: string;
}

const BAR = 30;
const HISTOGRAM = 40;

function progressBar(fraction: number, changes: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR);
  return `[${"#".repeat(filled)}${".".repeat(BAR - filled)}] ${Math.floor(fraction * 100)} % · ${changes.toLocaleString("en-US")} changes`;
}

/** The summary and per-day histogram the terminal shows. */
export function renderReplay(name: string, result: ReplayResult): string {
  const lines = [`Replay of "${name}" from ${result.from} to ${result.to}: ${result.changes.toLocaleString("en-US")} changes read`];
  const reasons = Object.entries(result.skipsByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  lines.push(`  would have run ${result.runs} time(s); skipped ${result.skips}${reasons ? ` (${reasons})` : ""}`);
  if (result.pendingTimers > 0) lines.push(`  ${result.pendingTimers} \`for:\` timer(s) still counting at the end`);
  for (const gap of result.gaps)
    lines.push(`  no history ${gap.reason === "before_retention" ? "(before the oldest recorded change)" : "(not happened yet)"}: ${gap.from} – ${gap.to}`);
  if (result.days.length > 0) {
    const most = Math.max(1, ...result.days.map((day) => day.runs + day.skips));
    const width = (count: number) => (count === 0 ? 0 : Math.max(1, Math.round((count / most) * HISTOGRAM)));
    lines.push("", "  day          runs  skips  (# run, . skip)");
    for (const day of result.days)
      lines.push(
        `  ${day.day}  ${String(day.runs).padStart(4)}  ${String(day.skips).padStart(5)}  ${"#".repeat(width(day.runs))}${".".repeat(width(day.skips))}`,
      );
  }
  const shown = result.listedRuns.slice(0, 10);
  if (shown.length > 0) {
    lines.push("", "  first would-be runs:");
    for (const run of shown)
      lines.push(`  ${run.at}  ${run.trigger.event}  ${run.entity.kind} ${run.entity.id}  → ${run.steps.map((step) => step.kind).join(", ") || "no actions"}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Whether a file's text is a config bundle (`kind:` documents, or several documents) rather than one definition. */
function isBundle(text: string): boolean {
  const documents = parseAllDocuments(text);
  if (documents.length > 1) return true;
  const [only] = documents;
  // Unparsable or empty: the core says what is wrong with it as a definition.
  if (only === undefined || only.errors.length > 0) return false;
  const value: unknown = only.toJS();
  return Array.isArray(value) || (typeof value === "object" && value !== null && "kind" in value);
}

/**
 * The definition to replay from `-f`: the file as it is (the core reads its YAML and points at
 * its lines), or — for a config bundle, as `vantage apply` takes it — the automation it holds
 * (`--name` picks one of several), `${env:…}` resolved, sent as `{ name, ...spec }`.
 */
async function definitionFromFile(file: string, name: string | undefined): Promise<string> {
  const text = await readFile(file, "utf8");
  if (!isBundle(text)) {
    if (name !== undefined)
      throw new ConfigApiError(`--name ${JSON.stringify(name)}: ${file} is one definition, not a config bundle; drop --name`, 0, undefined, []);
    return text;
  }
  const bundle = await loadBundle([file]);
  const resolved = resolveEnvReferences(bundle, process.env);
  const issues = [...bundle.issues, ...resolved.issues];
  if (issues.length > 0) throw new ConfigApiError(`${file} is not a valid bundle:\n  ${issues.map(formatIssue).join("\n  ")}`, 0, undefined, []);
  const automations = resolved.resources.filter((resource) => resource.kind === "Automation");
  const names = automations.map((automation) => JSON.stringify(automation.name)).join(", ");
  const chosen = name === undefined ? (automations.length === 1 ? automations[0] : undefined) : automations.find((automation) => automation.name === name);
  if (chosen === undefined) {
    const why =
      automations.length === 0
        ? "holds no Automation"
        : name === undefined
          ? `holds ${automations.length} automations (${names}): pick one with --name`
          : `holds no automation named ${JSON.stringify(name)} (it has ${names})`;
    throw new ConfigApiError(`${file} is a config bundle that ${why}`, 0, undefined, []);
  }
  return JSON.stringify({ name: chosen.name, ...chosen.spec });
}

export async function replayCommand(flags: ReplayFlags, io: ReplayIo): Promise<number> {
  if ((flags.file === undefined) === (flags.id === undefined))
    throw new ConfigApiError("give either -f <file> (a draft) or --id <automation id>", 0, undefined, []);
  const sinceMs = durationMs(flags.since);
  if (!Number.isFinite(sinceMs) || sinceMs <= 0)
    throw new ConfigApiError(`--since ${flags.since}: expected a duration such as 7d, 24h or 90m`, 0, undefined, []);
  const to = flags.to === undefined ? io.now() : Date.parse(flags.to);
  if (Number.isNaN(to)) throw new ConfigApiError(`--to ${flags.to}: expected an ISO 8601 instant`, 0, undefined, []);
  const client = createConfigClient({ url: flags.url, token: flags.token });
  const source = flags.file === undefined ? { automationId: flags.id } : { definition: await definitionFromFile(flags.file, flags.name) };
  let job = await client.post<ReplayJobView>("/automations/replay", { ...source, from: new Date(to - sinceMs).toISOString(), to: new Date(to).toISOString() });
  while (job.status === "running") {
    io.err(io.isTTY ? `\r${progressBar(job.progress, job.changes)}` : "");
    await sleep(io.pollMs ?? 500);
    job = await client.get<ReplayJobView>(`/automations/replay/${job.id}`);
  }
  if (io.isTTY) io.err(`\r${progressBar(1, job.changes)}\n`);
  if (job.status !== "succeeded" || !job.result) {
    io.err(`vantage: the replay ${job.status}${job.error ? `: ${job.error}` : ""}\n`);
    return 1;
  }
  io.out(flags.json ? `${JSON.stringify(job.result, null, 2)}\n` : renderReplay(job.request.name, job.result));
  return 0;
}

export function registerReplayCommand(program: Command, io: ReplayIo): void {
  program
    .command("replay")
    .description("replay a draft automation (-f) or a saved one (--id) over recorded history: when would it have run, and why not")
    .option("-f, --file <path>", "the automation definition (YAML or JSON), or a config bundle holding it")
    .option("--name <name>", "with -f on a bundle of several automations: the one to replay")
    .option("--id <automationId>", "a saved automation instead of a file")
    .option("--since <duration>", "how far back: 7d, 24h, 90m (at most 31d)", "7d")
    .option("--to <instant>", "end of the range (ISO 8601; default now)")
    .option("--json", "print the whole result as JSON")
    .addOption(new Option("--url <url>", "the core's base URL").env("VANTAGE_URL").default("http://127.0.0.1:8080"))
    .addOption(new Option("--token <token>", "an API token (editor or admin)").env("VANTAGE_TOKEN"))
    .action(async (flags: ReplayFlags) => {
      try {
        process.exitCode = await replayCommand(flags, io);
      } catch (error) {
        const plain = error instanceof ConfigApiError || typeof (error as NodeJS.ErrnoException).code === "string";
        io.err(`vantage: ${plain ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
        process.exitCode = 1;
      }
    });
}
