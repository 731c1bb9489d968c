// Real `vantage server` processes for the benchmarks that need whole cores (mass outage,
// core kills): started on a port, awaited until ready, and given an automation through the
// API; plus the helper processes (fleet, receiver) that talk JSON lines over stdio.
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { jsonLines } from "./_process.ts";

const VANTAGE_BIN = fileURLToPath(new URL("../packages/server/bin/vantage.js", import.meta.url));
// What `npm start` and the bin's shebang give the core (a young generation sized for runs in
// flight): spawned as `node <bin>`, the shebang's flags would be lost and the bench would
// measure a core with more garbage collection than the product's.
export const PRODUCT_NODE_FLAGS = ["--max-semi-space-size=64"];

/** A helper process (a `bench/_*.ts` program run through tsx) that prints JSON lines and reads commands on stdin. */
export interface Child {
  process: ChildProcess;
  next: () => Promise<Record<string, unknown>>;
  send(line: string): void;
}

export function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["pipe", "pipe", "inherit"] });
  return { process: child, next: jsonLines(child), send: (line) => child.stdin!.write(`${line}\n`) };
}

export interface CoreProcessOptions {
  databaseUrl: string;
  port: number;
  adminToken: string;
  heartbeatMs: number;
  logLevel?: "warn" | "error";
  /** Writes a V8 CPU profile of the process into this folder when it exits. */
  cpuProfDir?: string;
}

/** A core on a fixed port (a restarted core takes its place), resolved once it answers /readyz. */
export async function startCoreProcess(options: CoreProcessOptions): Promise<ChildProcess> {
  const profile = options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const args = [
    ...PRODUCT_NODE_FLAGS,
    ...profile,
    VANTAGE_BIN,
    "server",
    "--port",
    String(options.port),
    "--log-format",
    "json",
    "--log-level",
    options.logLevel ?? "warn",
  ];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      VANTAGE_ADMIN_TOKEN: options.adminToken,
      VANTAGE_HEARTBEAT_INTERVAL_MS: String(options.heartbeatMs),
      // The fleet process gives each satellite an address of its own through the proxy header.
      VANTAGE_TRUSTED_PROXIES: "127.0.0.1",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a core on port ${options.port} exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`http://127.0.0.1:${options.port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return child;
    await sleep(200);
  }
}

/** Creates an automation through the API; answers its id. */
export async function createAutomation(coreUrl: string, adminToken: string, definition: object): Promise<string> {
  // The admin token is stored just after the core answers /readyz, and a core reads the
  // stored hash again only every 5 s: retry a 401, under the limit of 10 failures a minute.
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${coreUrl}/api/v1/automations`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(definition),
    });
    if (response.status === 401 && attempt < 8) {
      await sleep(1500);
      continue;
    }
    if (response.status !== 201) throw new Error(`creating the automation answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { id: string }).id;
  }
}
