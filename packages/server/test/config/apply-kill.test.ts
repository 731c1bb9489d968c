// An apply of 500 resources whose core is killed (SIGKILL) in the middle of its writes leaves
// nothing: no check, no ownership, no history. The core is a real process; the test holds an
// uncommitted row with the 251st check's name, so the apply's writes stop there — after 250 —
// deterministically, until the core is dead.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.ts";
import { createPool } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { pollUntil } from "../support/poll.ts";
import { startVantageServer, type VantageProcess } from "../support/process.ts";

const ADMIN_TOKEN = "apply-kill-admin-token";
const RESOURCES = 500;
const BLOCKED_AT = 250;

let pool: pg.Pool;
let core: { server: VantageProcess; url: string } | undefined;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { max: 3 });
  core = await startVantageServer(
    ["--port", "0"],
    { DATABASE_URL: url, VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN, VANTAGE_SECRET_KEY: randomBytes(32).toString("hex") },
    {},
    90_000,
  );
}, 120_000);

afterAll(async () => {
  if (core && core.server.child.exitCode === null && core.server.child.signalCode === null) core.server.child.kill("SIGKILL");
  await core?.server.exited;
  await pool?.end();
});

const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);

describe("a core killed in the middle of an apply of 500 resources", () => {
  it("leaves nothing of the apply: all or nothing", { timeout: 120_000 }, async () => {
    const resources = Array.from({ length: RESOURCES }, (_, index) => ({
      kind: "Check",
      name: `kill-${index}`,
      spec: { type: "http", url: `http://127.0.0.1:9/${index}`, labels: { team: "kill", note: "x".repeat(100) } },
    }));
    // The test's own transaction holds the name the apply will write after 250 checks.
    const blocker = await pool.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query(`INSERT INTO checks (name, type, interval_seconds, timeout_ms, run_on_core, definition) VALUES ($1, 'http', 60, 1000, true, '{}')`, [
        `kill-${BLOCKED_AT}`,
      ]);
      const blockerPid = (await blocker.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;

      const answer = fetch(`${core!.url}/api/v1/config/apply`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ bundle: "kill", resources }),
      }).catch((error: unknown) => error);

      // The apply's backend, waiting on the blocker: its first 250 checks are written, uncommitted.
      const applyPid = await pollUntil(
        async () => (await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [blockerPid])).rows[0]?.pid,
        (pid) => pid !== undefined,
        60_000,
        "the apply to wait on the blocker",
      );
      core!.server.child.kill("SIGKILL");
      expect(await core!.server.exited).toBe("SIGKILL");
      expect(await answer).toBeInstanceOf(Error);

      // Released, the orphaned backend finds its client gone and rolls the apply back.
      await blocker.query("ROLLBACK");
      await pollUntil(
        () => count(`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ${Number(applyPid)}`),
        (n) => n === 0,
        30_000,
        "the orphaned backend to end",
      );
    } finally {
      blocker.release();
    }
    expect({
      checks: await count("SELECT count(*) AS n FROM checks"),
      owned: await count("SELECT count(*) AS n FROM config_ownership"),
      history: await count("SELECT count(*) AS n FROM config_changes"),
    }).toEqual({ checks: 0, owned: 0, history: 0 });
  });
});
