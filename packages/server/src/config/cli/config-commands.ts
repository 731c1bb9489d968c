// `vantage plan`, `apply`, `test` and `export`: a bundle read from files, its `${env:…}`
// references resolved here (`${secret:…}` by the core), planned, applied or tried by a core over
// its API. Exit codes for CI: plan 0 = no changes, 2 = changes, 1 = error; test 0 = every check
// up, 2 = some not, 1 = error; apply and export 0 = done, 1 = error.
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { type ConfigPlan, type ConfigRequest, RESOURCE_KINDS, satelliteStartCommand } from "@vantage/protocol";
import { type Command, Option } from "commander";
import { stringify } from "yaml";
import type { BundleTrial } from "../bundle-trial.ts";
import { type ApplyResult } from "../config-service.ts";
import { formatIssue, type LoadedBundle, loadBundle, type LocatedIssue, resolveEnvReferences } from "./bundle-files.ts";
import { ConfigApiError, type ConfigClient, createConfigClient } from "./config-client.ts";
import { renderPlan, renderTrial } from "./render-plan.ts";
import { registerSecretCommands } from "./secret-commands.ts";

const RESOURCE_PATH = /^resources\.(\d+)(?:\.(.*))?$/;

export interface ConfigIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Asks a yes/no question on the terminal; undefined when there is none to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  /** Reads all of stdin (a secret's value); undefined when stdin is a terminal. */
  stdin?: () => Promise<string>;
}

export interface ClientFlags {
  url: string;
  token?: string;
}

interface BundleFlags extends ClientFlags {
  file: string[];
  bundle: string;
  prune?: boolean;
  detach?: boolean;
}

/** A failure already explained on stderr: exit 1 without a stack. */
export class Reported extends Error {}

function report(io: ConfigIo, issues: readonly LocatedIssue[], headline: string): never {
  io.err(`${headline}\n${issues.map((issue) => `  ${formatIssue(issue)}`).join("\n")}\n`);
  throw new Reported(headline);
}

/** What a refused request did not do, in its command's words. */
type Undone = "nothing was planned" | "nothing was applied" | "nothing was run";

/** The core's error, its issues placed in the bundle's files where they point into a resource. */
function reportApiError(io: ConfigIo, error: unknown, bundle: LoadedBundle, undone: Undone): never {
  if (!(error instanceof ConfigApiError)) throw error;
  if (error.issues.length === 0) {
    io.err(`vantage: ${error.message}\n`);
    throw new Reported(error.message);
  }
  const placed = error.issues.map((issue) => {
    const match = RESOURCE_PATH.exec(issue.path);
    return match ? bundle.locate(Number(match[1]), match[2] ?? "", issue.message) : { file: "(request)", line: 0, path: issue.path, message: issue.message };
  });
  report(io, placed, `The core refused the bundle (${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}); ${undone}:`);
}

async function readRequest(flags: BundleFlags, io: ConfigIo): Promise<{ bundle: LoadedBundle; request: ConfigRequest }> {
  const bundle = await loadBundle(flags.file);
  // Every problem of the files at once, before anything reaches the core.
  const resolved = resolveEnvReferences(bundle, io.env);
  const issues = [...bundle.issues, ...resolved.issues];
  if (issues.length > 0) report(io, issues, `The bundle has ${issues.length} problem${issues.length === 1 ? "" : "s"}; nothing was planned:`);
  return { bundle, request: { bundle: flags.bundle, resources: resolved.resources, prune: flags.prune ?? false, detach: flags.detach ?? false } };
}

export const clientOf = (flags: ClientFlags): ConfigClient => createConfigClient({ url: flags.url, token: flags.token });

export async function planCommand(flags: BundleFlags & { json?: boolean }, io: ConfigIo): Promise<number> {
  const { bundle, request } = await readRequest(flags, io);
  const plan = await clientOf(flags)
    .post<ConfigPlan>("/config/plan", request)
    .catch((error: unknown) => reportApiError(io, error, bundle, "nothing was planned"));
  io.out(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan));
  return plan.hasChanges ? 2 : 0;
}

export async function applyCommand(flags: BundleFlags & { yes?: boolean; commit?: string; plan?: string }, io: ConfigIo): Promise<number> {
  const { bundle, request } = await readRequest(flags, io);
  const client = clientOf(flags);
  let plan: ConfigPlan;
  if (flags.plan !== undefined) {
    // A saved plan (`plan --json`) was reviewed already: applied only if nothing moved since.
    plan = JSON.parse(await readFile(flags.plan, "utf8")) as ConfigPlan;
  } else {
    plan = await client.post<ConfigPlan>("/config/plan", request).catch((error: unknown) => reportApiError(io, error, bundle, "nothing was applied"));
  }
  io.out(renderPlan(plan));
  if (!plan.hasChanges && !plan.changes.some((change) => change.adopt || change.drift)) {
    io.out("Nothing to apply.\n");
    return 0;
  }
  if (!flags.yes && flags.plan === undefined) {
    if (!io.confirm) {
      io.err("vantage: not applying without confirmation: pass --yes (no terminal to ask on)\n");
      return 1;
    }
    if (!(await io.confirm("Apply these changes? (yes/no) "))) {
      io.out("Not applied.\n");
      return 0;
    }
  }
  // The fingerprint makes the core refuse if anything moved since the plan shown was made.
  const body: ConfigRequest = { ...request, fingerprint: plan.fingerprint, ...(flags.commit === undefined ? {} : { commit: flags.commit }) };
  const result = await client.post<ApplyResult>("/config/apply", body).catch((error: unknown) => reportApiError(io, error, bundle, "nothing was applied"));
  for (const satellite of result.satellites) {
    // As the UI shows a new satellite: the token once, and the command that starts it.
    io.out(
      `Satellite "${satellite.name}" created (id ${satellite.id}). Its token, shown this once: ${satellite.token}\n` +
        `Start it where it should run (Node.js ≥ 20.19, in a checkout of Vantage) with:\n  ${satelliteStartCommand(flags.url, satellite.id, satellite.token)}\n`,
    );
  }
  for (const check of result.heartbeatChecks) {
    io.out(`Check "${check.name}" created (id ${check.id}). Its ping URL, shown this once: ${new URL(check.pingUrl, flags.url).href}\n`);
  }
  io.out(`Applied (apply ${result.applyId}).\n`);
  return 0;
}

export async function testCommand(flags: BundleFlags & { satellite?: string; json?: boolean }, io: ConfigIo): Promise<number> {
  const { bundle, request } = await readRequest(flags, io);
  const query = flags.satellite === undefined ? "" : `?satellite=${encodeURIComponent(flags.satellite)}`;
  const trial = await clientOf(flags)
    .post<BundleTrial>(`/config/test${query}`, request)
    .catch((error: unknown) => reportApiError(io, error, bundle, "nothing was run"));
  io.out(flags.json ? `${JSON.stringify(trial, null, 2)}\n` : renderTrial(trial));
  return trial.passed ? 0 : 2;
}

export async function exportCommand(
  flags: ClientFlags & { kind?: string[]; label?: string[]; bundle?: string; format: string },
  io: ConfigIo,
): Promise<number> {
  const query = new URLSearchParams();
  for (const kind of flags.kind ?? []) query.append("kind", kind);
  for (const label of flags.label ?? []) query.append("label", label);
  if (flags.bundle !== undefined) query.append("bundle", flags.bundle);
  const suffix = query.size > 0 ? `?${query}` : "";
  const { resources } = await clientOf(flags)
    .get<{ resources: unknown[] }>(`/config/export${suffix}`)
    .catch((error: unknown) => {
      io.err(`vantage: ${(error as Error).message}\n`);
      throw new Reported((error as Error).message);
    });
  if (flags.format === "json") io.out(`${JSON.stringify(resources, null, 2)}\n`);
  else io.out(resources.map((resource) => stringify(resource, { lineWidth: 0 })).join("---\n"));
  return 0;
}

export function withClientOptions(command: Command): Command {
  return command
    .addOption(new Option("--url <url>", "the core's base URL").env("VANTAGE_URL").default("http://127.0.0.1:8080"))
    .addOption(new Option("--token <token>", "an admin API token").env("VANTAGE_TOKEN"));
}

function withBundleOptions(command: Command): Command {
  return withClientOptions(command)
    .requiredOption("-f, --file <paths...>", "bundle files or directories (YAML or JSON, multi-document)")
    .addOption(new Option("--bundle <name>", "the bundle's name: what it owns is tracked under it").env("VANTAGE_BUNDLE").default("default"))
    .option("--prune", "delete the resources this bundle owns that it no longer holds")
    .option("--detach", "release the resources this bundle owns that it no longer holds");
}

/** Runs a command: its exit code, or 1 after a reported (or unexpected) failure. */
export async function run(io: ConfigIo, command: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    // A refused request or an unreadable file says what it is; anything else is a bug, with its stack.
    const plain = error instanceof ConfigApiError || typeof (error as NodeJS.ErrnoException).code === "string";
    if (!(error instanceof Reported)) io.err(`vantage: ${plain ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
    process.exitCode = 1;
  }
}

export function registerConfigCommands(program: Command, io: ConfigIo): void {
  withBundleOptions(program.command("plan"))
    .description("show what applying a bundle would change (exit 0: no changes, 2: changes, 1: error)")
    .option("--json", "print the plan as JSON (save it for apply --plan)")
    .action((flags: BundleFlags & { json?: boolean }) => run(io, () => planCommand(flags, io)));

  withBundleOptions(program.command("apply"))
    .description("apply a bundle in one transaction, after showing its plan")
    .option("--yes", "apply without asking")
    .option("--commit <sha>", "the commit the bundle comes from, recorded as the cause of every change")
    .option("--plan <file>", "apply a saved plan (plan --json); refused if anything changed since")
    .action((flags: BundleFlags & { yes?: boolean; commit?: string; plan?: string }) => run(io, () => applyCommand(flags, io)));

  withClientOptions(program.command("export"))
    .description("print the current resources as a bundle (secrets as <redacted>)")
    .addOption(new Option("--kind <kinds...>", "only these kinds").choices(RESOURCE_KINDS))
    .option("--label <labels...>", "only resources with these key=value labels")
    .option("--bundle <name>", "only the resources this bundle owns")
    .addOption(new Option("--format <format>", "yaml or json").choices(["yaml", "json"]).default("yaml"))
    .action((flags: ClientFlags & { kind?: string[]; label?: string[]; bundle?: string; format: string }) => run(io, () => exportCommand(flags, io)));

  withBundleOptions(program.command("test"))
    .description("validate a bundle and run each of its checks once, saving nothing (exit 0: all up, 2: some not, 1: error)")
    .option("--satellite <name>", "run the checks on this satellite instead of the core")
    .option("--json", "print the outcome as JSON")
    .action((flags: BundleFlags & { satellite?: string; json?: boolean }) => run(io, () => testCommand(flags, io)));

  registerSecretCommands(program, io, withClientOptions, run);
}

/** The process's own terminal, for the real command. */
export function processIo(): ConfigIo {
  const io: ConfigIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text), env: process.env };
  if (!process.stdin.isTTY) {
    io.stdin = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    };
  }
  if (process.stdin.isTTY) {
    io.confirm = async (question) => {
      const prompt = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y(es)?$/i.test((await prompt.question(question)).trim());
      } finally {
        prompt.close();
      }
    };
  }
  return io;
}
