// The core location across real `vantage server` processes on one database: while two cores
// live, each core check hits its target once per interval (never twice) and each run's result is
// stored; SIGKILL the core that is running a check and the other runs it within two intervals.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { insertCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { waitFor } from "../../support/instance.ts";
import { startVantageServer, type VantageProcess } from "../../support/process.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";

/** The shortest interval a check may have. */
const INTERVAL_MS = 10_000;
/** How much a run may start after its slot on a busy machine (claims, timers, a loaded event loop). */
const START_JITTER_MS = 1_000;
const CHECKS = 4;
/** How long a core may take to start on a busy machine. */
const START_TIMEOUT_MS = 90_000;

let databaseUrl: string;
let pool: pg.Pool;
let receiver: HttpReceiver;
const cores: VantageProcess[] = [];

beforeEach(async () => {
  databaseUrl = (await createTestDatabase()).url;
  pool = createPool(databaseUrl, silentLogger(), { max: 2 });
  receiver = await startHttpReceiver();
});

afterEach(async () => {
  for (const core of cores.splice(0)) {
    if (core.child.exitCode === null && core.child.signalCode === null) core.child.kill("SIGKILL");
    await core.exited;
  }
  await receiver.close();
  await pool.end();
});

async function startCore(): Promise<VantageProcess> {
  const { server } = await startVantageServer(
    ["--port", "0"],
    {
      DATABASE_URL: databaseUrl,
      VANTAGE_ADMIN_TOKEN: "core-location-admin-token",
      VANTAGE_SECRET_KEY: randomBytes(32).toString("hex"),
      // The scheduler logs each run it starts at debug level: how the test tells which core ran it.
      VANTAGE_LOG_LEVEL: "debug",
    },
    {},
    START_TIMEOUT_MS,
  );
  cores.push(server);
  return server;
}

const pathOf = (check: number) => `/check/${check}`;
const hitsOf = (check: number) => receiver.requests.filter((request) => request.path === pathOf(check)).map((request) => request.receivedAt);
const isRunStart = (checkId: string, around: number) => (line: Record<string, unknown>) =>
  line.msg === "core check run started" && line.checkId === checkId && Math.abs(Number(line.time) - around) <= START_JITTER_MS;

/** Consecutive instants (in any order) lie most of an interval apart: never two runs in one interval. */
function expectSpacedByInterval(instants: number[]): void {
  const sorted = [...instants].sort((a, b) => a - b);
  for (let index = 1; index < sorted.length; index++) expect(sorted[index]! - sorted[index - 1]!).toBeGreaterThan(INTERVAL_MS - START_JITTER_MS);
}

describe("two core processes with core-location checks", () => {
  it("hit each target once per interval, and the survivor takes over a SIGKILLed core's check within two intervals", { timeout: 240_000 }, async () => {
    // No answer: every run lasts its timeout, so a run is in flight when its core is killed.
    receiver.answer("hang");
    const both = await Promise.all([startCore(), startCore()]);
    const ids: string[] = [];
    for (let check = 0; check < CHECKS; check++) {
      ids.push(await insertCheck(pool, { intervalSeconds: INTERVAL_MS / 1000, timeoutMs: 3_000, url: `${receiver.origin}${pathOf(check)}` }));
    }

    // While both live: every check hit twice, its hits a whole interval apart.
    await waitFor(() => ids.every((_id, check) => hitsOf(check).length >= 2), receiver.subscribe, 3 * INTERVAL_MS, "two hits of every check");
    for (let check = 0; check < CHECKS; check++) {
      const hits = hitsOf(check);
      for (let index = 1; index < hits.length; index++) expect(hits[index]! - hits[index - 1]!).toBeGreaterThan(INTERVAL_MS - START_JITTER_MS);
    }
    // A core's log line reaches this process through a pipe, and may come after the hit it
    // logged: wait for every hit's line before counting the lines.
    for (let check = 0; check < CHECKS; check++) {
      for (const at of hitsOf(check)) await Promise.any(both.map((core) => core.waitForLog(isRunStart(ids[check]!, at), 10_000)));
    }
    // Not only at the target: across both cores' own records, no check started twice within an
    // interval (a second run refused before it reached the target would show only here), and
    // no two stored results of a check lie within one interval.
    for (let check = 0; check < CHECKS; check++) {
      const starts = both.flatMap((core) =>
        core.logs.filter((line) => line.msg === "core check run started" && line.checkId === ids[check]).map((line) => Number(line.time)),
      );
      expect(starts.length).toBeGreaterThanOrEqual(2);
      expectSpacedByInterval(starts);
    }
    const { rows: stored } = await pool.query<{ check_id: string; started: number[] }>(
      "SELECT check_id, array_agg(extract(epoch FROM started_at) * 1000 ORDER BY started_at)::float8[] AS started FROM check_results WHERE location = 'core' GROUP BY check_id",
    );
    for (const { started } of stored) expectSpacedByInterval(started);

    // The next run to start: find its core and SIGKILL it while the request is in flight.
    const seen = receiver.requests.length;
    await waitFor(() => receiver.requests.length > seen, receiver.subscribe, 2 * INTERVAL_MS, "the next hit");
    const hit = receiver.requests[seen]!;
    const check = Number(hit.path.split("/").at(-1));
    const runner = await Promise.any(both.map(async (core) => (await core.waitForLog(isRunStart(ids[check]!, hit.receivedAt), 10_000), core)));
    const survivor = both.find((core) => core !== runner)!;
    runner.child.kill("SIGKILL");
    expect(await runner.exited).toBe("SIGKILL");

    await waitFor(() => hitsOf(check).some((at) => at > hit.receivedAt), receiver.subscribe, 3 * INTERVAL_MS, "the check's next hit");
    const next = hitsOf(check).find((at) => at > hit.receivedAt)!;
    expect(next - hit.receivedAt).toBeLessThanOrEqual(2 * INTERVAL_MS);
    expect(next - hit.receivedAt).toBeGreaterThan(INTERVAL_MS - START_JITTER_MS);
    await survivor.waitForLog(isRunStart(ids[check]!, next), 10_000);
    // The runs that ended before the kill were stored, as the target never answered: down.
    const { rows } = await pool.query<{ status: string; runs: number }>(
      "SELECT status, count(*)::int AS runs FROM check_results WHERE check_id = $1 AND location = 'core' AND started_at < to_timestamp($2 / 1000.0) GROUP BY status",
      [ids[check], hit.receivedAt - START_JITTER_MS],
    );
    expect(rows).toEqual([{ status: "down", runs: hitsOf(check).filter((at) => at < hit.receivedAt - START_JITTER_MS).length }]);
  });
});
