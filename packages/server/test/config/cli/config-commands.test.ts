// `vantage plan | apply | export` against a core's API over HTTP on 127.0.0.1 — once as the real
// process (a start costs seconds on a loaded machine), otherwise the commands in this process:
// exit codes for CI, problems at file:line (the CLI's own and the core's), secrets from the
// environment never printed, export → plan is no change, a saved plan refused once stale.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyCommand, type ConfigIo, exportCommand, planCommand, testCommand } from "../../../src/config/cli/config-commands.ts";
import { secretDeleteCommand, secretListCommand, secretSetCommand } from "../../../src/config/cli/secret-commands.ts";
import { startHttpServer } from "../../../src/http/index.ts";
import { useFullApiApp } from "../../support/api/full-api-app.ts";
import { TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { VANTAGE_BIN } from "../../support/process.ts";

const api = useFullApiApp("config-cli");
let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
let dir = "";

beforeAll(async () => {
  server = await startHttpServer(api.app, { host: "127.0.0.1", port: 0 });
  dir = await mkdtemp(join(tmpdir(), "vantage-config-"));
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function vantage(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VANTAGE_BIN, ...args, "--url", server!.url],
      { env: { ...process.env, VANTAGE_TOKEN: TEST_ADMIN_TOKEN, ...env }, cwd: dir },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A command run in this process: its exit code (1 when it threw) and what it printed. */
async function command(run: (io: ConfigIo) => Promise<number>, env: Record<string, string> = {}, stdin?: string): Promise<Ran> {
  const ran = { code: 0, stdout: "", stderr: "" };
  const io: ConfigIo = { out: (text) => void (ran.stdout += text), err: (text) => void (ran.stderr += text), env };
  if (stdin !== undefined) io.stdin = async () => stdin;
  ran.code = await run(io).catch(() => 1);
  return ran;
}

const flags = (file: string[], bundle = "default") => ({ file, bundle, url: server!.url, token: TEST_ADMIN_TOKEN });

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const checkDocument = (name: string, url = "http://127.0.0.1:9/health") => `kind: Check\nname: ${name}\nspec:\n  type: http\n  url: ${url}\n`;

describe("vantage plan and apply", () => {
  it(
    "as a process: plans changes (exit 2), applies them with a secret from the environment never printed, then plans none (exit 0)",
    { timeout: 180_000 },
    async () => {
      const path = await file(
        "web.yaml",
        [
          `kind: NotificationChannel\nname: cli hook\nspec:\n  type: webhook\n  config:\n    url: http://127.0.0.1:9/hook\n    secret: \${env:HOOK_SECRET}\n`,
          checkDocument("cli-web"),
        ].join("---\n"),
      );
      const env = { HOOK_SECRET: "super-secret-value-42" };
      const planned = await vantage(["plan", "-f", path, "--bundle", "cli"], env);
      expect(planned.code, planned.stderr).toBe(2);
      expect(planned.stdout).toMatch(/\+ Check "cli-web" create/);
      expect(planned.stdout).not.toContain("super-secret-value-42");

      const applied = await vantage(["apply", "-f", path, "--bundle", "cli", "--yes", "--commit", "0123abcd"], env);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toMatch(/Applied/);
      expect(applied.stdout + applied.stderr).not.toContain("super-secret-value-42");

      const again = await vantage(["plan", "-f", path, "--bundle", "cli"], env);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(/No changes/);
    },
  );

  it("refuses to apply without --yes when there is no terminal to ask on", async () => {
    const path = await file("unconfirmed.yaml", checkDocument("cli-unconfirmed"));
    const ran = await command((io) => applyCommand(flags([path], "cli-unconfirmed"), io));
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/--yes/);
  });

  it("prints a satellite it created with its token once and the command that starts it, and a heartbeat check's ping URL", async () => {
    // Bundle "cli", which the export below plans as: the export holds these too.
    const path = await file(
      "satellite.yaml",
      "kind: Satellite\nname: cli-edge\nspec: { region: edge }\n---\nkind: Check\nname: cli-nightly\nspec: { type: heartbeat, periodSeconds: 86400 }\n",
    );
    const ran = await command((io) => applyCommand({ ...flags([path], "cli"), yes: true }, io));
    expect(ran.code, ran.stderr).toBe(0);
    const { rows } = await api.instance.pool.query<{ id: string }>("SELECT id FROM satellites WHERE name = 'cli-edge'");
    const token = /Its token, shown this once: (vsat_\S+)/.exec(ran.stdout)?.[1];
    expect(token).toBeDefined();
    expect(ran.stdout).toContain(`Satellite "cli-edge" created (id ${rows[0]!.id}).`);
    expect(ran.stdout).toContain(
      `Start it where it should run (Node.js ≥ 20.19, in a checkout of Vantage) with:\n  VANTAGE_URL=${new URL(server!.url).origin} \\\n  VANTAGE_SATELLITE_ID=${rows[0]!.id} \\\n  VANTAGE_SATELLITE_TOKEN=${token} \\\n  npx --no -- vantage-satellite\n`,
    );
    const pingUrl = new RegExp(
      `Check "cli-nightly" created \\(id [0-9a-f-]{36}\\)\\. Its ping URL, shown this once: (${new URL(server!.url).origin}/hb/vhb_\\S+)\n`,
    ).exec(ran.stdout)?.[1];
    expect(pingUrl, ran.stdout).toBeDefined();
    expect((await fetch(pingUrl!, { method: "POST" })).status).toBe(200);
  });

  it("names every problem at file:line: its own before asking the core, and the core's after", async () => {
    const local = await file(
      "local.yaml",
      `${checkDocument("fine")}---\nkind: Bogus\nname: what\nspec: {}\n---\nkind: Check\nname: missing-env\nspec:\n  type: http\n  url: \${env:NOT_SET_ANYWHERE}\n`,
    );
    const ran = await command((io) => planCommand(flags([local]), io));
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/local\.yaml:7 kind: kind must be one of/);
    expect(ran.stderr).toMatch(/local\.yaml:15 spec\.url: environment variable NOT_SET_ANYWHERE is not set/);

    // Fifty checks in two files, one of them invalid in its spec: only the core knows.
    const many = Array.from({ length: 50 }, (_, index) => checkDocument(`cli-bulk-${index}`, index === 37 ? "ftp://nope" : undefined));
    const bulk = join(dir, "bulk");
    await mkdir(bulk, { recursive: true });
    await writeFile(join(bulk, "a.yaml"), many.slice(0, 25).join("---\n"));
    await writeFile(join(bulk, "b.yaml"), many.slice(25).join("---\n"));
    const unplanned = await command((io) => planCommand(flags([bulk], "cli-bulk"), io));
    expect(unplanned.code).toBe(1);
    expect(unplanned.stderr).toMatch(/The core refused the bundle \(1 problem\); nothing was planned:/);
    const refused = await command((io) => applyCommand({ ...flags([bulk], "cli-bulk"), yes: true }, io));
    expect(refused.code).toBe(1);
    // Resource 37 is the 13th document of b.yaml: 5 lines each plus a separator, its url on the document's 5th line.
    expect(refused.stderr).toMatch(new RegExp(`bulk/b\\.yaml:${12 * 6 + 5} spec\\.url: `));
    expect(refused.stderr).toMatch(/nothing was applied/);
    const { rows } = await api.instance.pool.query("SELECT count(*)::int AS n FROM checks WHERE name LIKE 'cli-bulk-%'");
    expect(rows[0].n).toBe(0);
  });

  it("applies a saved plan only while nothing changed since", async () => {
    const path = await file("saved.yaml", checkDocument("cli-saved"));
    const saved = await command((io) => planCommand({ ...flags([path], "cli-saved"), json: true }, io));
    expect(saved.code, saved.stderr).toBe(2);
    const planFile = await file("saved-plan.json", saved.stdout);
    const created = await api.call("POST", "/checks", { name: "cli-saved", type: "http", url: "http://127.0.0.1:9/meanwhile" });
    expect(created.status).toBe(201);
    const refused = await command((io) => applyCommand({ ...flags([path], "cli-saved"), plan: planFile }, io));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/changed since the plan/);
  });
});

describe("vantage export", () => {
  it("prints a bundle that plan reports as no changes", async () => {
    const exported = await command((io) => exportCommand({ url: server!.url, token: TEST_ADMIN_TOKEN, format: "yaml" }, io));
    expect(exported.code, exported.stderr).toBe(0);
    const path = await file("exported.yaml", exported.stdout);
    const planned = await command((io) => planCommand(flags([path], "cli"), io));
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
  });
});

describe("vantage secret and vantage test", () => {
  it("stores a secret from stdin or the environment without printing it; a bundle referencing it plans and tests; list shows names only", async () => {
    const client = { url: server!.url, token: TEST_ADMIN_TOKEN };
    const fromStdin = await command((io) => secretSetCommand("CLI_HOOK_SECRET", client, io), {}, "stdin-secret-value-1\n");
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/\$\{secret:CLI_HOOK_SECRET\}/);
    const fromEnv = await command((io) => secretSetCommand("CLI_OTHER", { ...client, fromEnv: "OTHER" }, io), { OTHER: "env-secret-value-2" });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    const noValue = await command((io) => secretSetCommand("CLI_NONE", client, io));
    expect(noValue.code).toBe(1);
    expect(noValue.stderr).toMatch(/stdin/);

    const listed = await command((io) => secretListCommand(client, io));
    expect(listed.stdout).toMatch(/CLI_HOOK_SECRET\tset .* by admin token/);
    expect(listed.stdout + fromStdin.stdout + fromEnv.stdout).not.toMatch(/secret-value/);

    const path = await file("secret-ref.yaml", checkDocument("cli-secret-check", "http://127.0.0.1:9/?k=${secret:CLI_HOOK_SECRET}"));
    const planned = await command((io) => planCommand(flags([path], "cli-secret"), io));
    expect(planned.code, planned.stderr).toBe(2);
    expect(planned.stdout).not.toContain("stdin-secret-value-1");

    // The check's target refuses connections: it runs, is down, and exit 2 says so; nothing is saved.
    const tested = await command((io) => testCommand(flags([path], "cli-secret"), io));
    expect(tested.code, tested.stderr).toBe(2);
    expect(tested.stdout).toMatch(/✗ Check "cli-secret-check" on core: down/);
    expect(tested.stdout).not.toContain("stdin-secret-value-1");
    const { rows } = await api.instance.pool.query("SELECT count(*)::int AS n FROM checks WHERE name = 'cli-secret-check'");
    expect(rows[0].n).toBe(0);

    expect((await command((io) => secretDeleteCommand("CLI_OTHER", client, io))).code).toBe(0);
    await expect(secretDeleteCommand("CLI_OTHER", client, { out: () => undefined, err: () => undefined, env: {} })).rejects.toThrow(/No secret is named/);
  });
});
