// The core scheduler over a real PostgreSQL, as two core instances with pools of their own: each
// due run executes exactly once across them, a dead instance's checks run on the other within two
// intervals, disabled and deleted checks stop, runs end by their deadline, stopping drops runs in
// flight, and the lag metric records slot → start. Time moves on an injected clock.
import { randomBytes, randomUUID } from "node:crypto";
import type { ProbeSpec } from "@vantage/protocol";
import type pg from "pg";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNotificationHub, type NotificationHub } from "../../../src/cluster/index.ts";
import { createCoreLocationMetrics } from "../../../src/checks/scheduling/core-location-metrics.ts";
import { type CoreRunResult, createCoreRuns } from "../../../src/checks/scheduling/core-runs.ts";
import { type CoreScheduler, type CoreSchedulerOptions, createCoreScheduler } from "../../../src/checks/scheduling/core-scheduler.ts";
import { CLAIM_DUE } from "../../../src/checks/scheduling/check-schedule.ts";
import type { ProbeOutcome, RunProbe } from "../../../src/checks/scheduling/probe-run.ts";
import { createResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { storeCheckSource } from "../../../src/checks/scheduling/check-source.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { ingestContext } from "../../support/checks/check-results.ts";
import { insertCheck, insertChecks } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, waitFor } from "../../support/instance.ts";
import { textOf } from "../../support/query-text.ts";

const UP: ProbeOutcome = { status: "up", detail: { timings: { totalMs: 1 } } };

let url: string;
let clock: number;
const instances: Instance[] = [];

beforeEach(async () => {
  url = (await createTestDatabase()).url;
  clock = Date.now();
});

afterEach(async () => {
  for (const instance of instances.splice(0)) await instance.stop();
});

interface Instance {
  name: string;
  pool: pg.Pool;
  scheduler: CoreScheduler;
  registry: Registry;
  results: CoreRunResult[];
  /** Emits after every result submitted. */
  submitted: ReturnType<typeof createSignal>;
  /** Specs the probe was called with. */
  probed: ProbeSpec[];
  /** Emits after every call of the probe. */
  probeCalled: ReturnType<typeof createSignal>;
  stop(): Promise<void>;
}

interface InstanceOptions extends Partial<
  Pick<CoreSchedulerOptions, "concurrency" | "maxPending" | "batchSize" | "claimsInFlight" | "claimAheadMs" | "maxIdleMs">
> {
  probe?: RunProbe;
  /** Awaited before each result goes to the ingest: a slow commit. */
  storing?: () => Promise<void>;
  /** Listen for schedule changes and use the database's clock, as main.ts wires it. */
  live?: boolean;
  /** The pool as the scheduler sees it (to watch its statements). */
  schedulerPool?: (pool: pg.Pool) => pg.Pool;
}

/** One core's scheduler with a pool (and, when live, a notification hub) of its own. */
async function startInstance(name: string, options: InstanceOptions = {}): Promise<Instance> {
  const logger = silentLogger();
  const pool = createPool(url, logger, { applicationName: name, max: 4 });
  let hub: NotificationHub | undefined;
  if (options.live) {
    hub = createNotificationHub({ pool, logger, reconnectDelayMs: 50 });
    await hub.start();
  }
  const registry = new Registry();
  const metrics = createCoreLocationMetrics(registry);
  const results: CoreRunResult[] = [];
  const submitted = createSignal();
  const probed: ProbeSpec[] = [];
  const probeCalled = createSignal();
  const probe = options.probe ?? (() => Promise.resolve(UP));
  const ingest = createResultIngest({ pool, logger, context: ingestContext(pool, { now: () => clock }) });
  const runs = createCoreRuns({
    runProbe: (spec, context) => {
      probed.push(spec);
      const outcome = probe(spec, context);
      probeCalled.emit();
      return outcome;
    },
    source: storeCheckSource(new CheckStore({ pool, box: createSecretBox(randomBytes(32)) })),
    // The real results ingest, and a record of what this instance submitted.
    ingest: {
      submit: async (result) => {
        await options.storing?.();
        const outcome = await ingest.submit(result);
        results.push(result);
        submitted.emit();
        return outcome;
      },
    },
    metrics,
    logger,
    now: () => clock,
  });
  const scheduler = createCoreScheduler({
    hub,
    runs,
    metrics,
    logger,
    instanceId: name,
    claimAheadMs: 0,
    ...options,
    pool: options.schedulerPool?.(pool) ?? pool,
    clock: options.live ? undefined : () => clock,
  });
  let stopped: Promise<void> | undefined;
  const instance: Instance = {
    name,
    pool,
    scheduler,
    registry,
    results,
    submitted,
    probed,
    probeCalled,
    stop: () =>
      (stopped ??= (async () => {
        await scheduler.stop();
        await ingest.stop();
        await hub?.stop();
        await pool.end();
      })()),
  };
  instances.push(instance);
  return instance;
}

/** Claims on every instance at once, again and again, until nothing more is due; then waits for the runs. */
async function drain(...cores: Instance[]): Promise<void> {
  const claimAll = async (core: Instance) => {
    while ((await core.scheduler.claimOnce()) > 0);
  };
  await Promise.all(cores.flatMap((core) => [claimAll(core), claimAll(core)]));
  await Promise.all(cores.map((core) => core.scheduler.settled()));
}

const countBy = (results: CoreRunResult[]) =>
  results.reduce((counts, result) => counts.set(result.checkId, (counts.get(result.checkId) ?? 0) + 1), new Map<string, number>());

/** A probe that never answers and ignores its signal: a stuck probe, or a core frozen mid-run. */
const neverAnswers: RunProbe = () => new Promise<ProbeOutcome>(() => undefined);

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected))?.value;
}

describe("two core instances on one database", () => {
  it("execute each due run exactly once between them, interval after interval", async () => {
    const a = await startInstance("core-a", { batchSize: 20 });
    const b = await startInstance("core-b", { batchSize: 20 });
    const ids = await insertChecks(a.pool, 120, { intervalSeconds: 60, timeoutMs: 1_000 });

    clock = Date.now() + 60_000;
    // A batch each (as two cores waking for the same slots), then both claim against each other.
    expect(await a.scheduler.claimOnce()).toBe(20);
    expect(await b.scheduler.claimOnce()).toBe(20);
    await drain(a, b);
    const first = countBy([...a.results, ...b.results]);
    expect([...first.keys()].sort()).toEqual([...ids].sort());
    expect([...first.values()].every((count) => count === 1)).toBe(true);

    await drain(a, b);
    expect(a.results.length + b.results.length).toBe(120);

    clock += 60_000;
    await drain(a, b);
    const second = countBy([...a.results, ...b.results]);
    expect([...second.values()].every((count) => count === 2)).toBe(true);
    expect(new Set([...a.results, ...b.results].map((result) => result.resultId)).size).toBe(240);
    const { rows } = await a.pool.query<{ runs: number }>("SELECT count(*)::int AS runs FROM check_results WHERE location = 'core' GROUP BY check_id");
    expect(rows.map((row) => row.runs)).toEqual(Array.from({ length: 120 }, () => 2));
    expect([...a.results, ...b.results].every((result) => result.location === "core" && result.status === "up")).toBe(true);
  });

  it("run a dead instance's checks on the other within two intervals", async () => {
    const a = await startInstance("core-a", { probe: neverAnswers });
    const b = await startInstance("core-b");
    const ids = await insertChecks(a.pool, 10, { intervalSeconds: 10, timeoutMs: 10_000 });

    clock = Date.now() + 10_000;
    expect(await a.scheduler.claimOnce()).toBe(10);
    expect(a.scheduler.inFlight()).toBe(10);
    const claimedAt = clock;
    // Instance a is dead from here on: it never finishes its runs and claims nothing more.
    expect(await b.scheduler.claimOnce()).toBe(0);

    // b claims each check at its next slot, stepping through the interval a second at a time.
    while (b.results.length < 10 && clock < claimedAt + 20_000) {
      clock += 1_000;
      await drain(b);
    }
    expect(countBy(b.results)).toEqual(new Map(ids.map((id) => [id, 1])));
    for (const result of b.results) expect(Date.parse(result.startedAt) - claimedAt).toBeLessThanOrEqual(2 * 10_000);
  });
});

describe("one core instance", () => {
  it("stops running a check once it is disabled or deleted", async () => {
    const core = await startInstance("core");
    const disabled = await insertCheck(core.pool, { intervalSeconds: 10 });
    const deleted = await insertCheck(core.pool, { intervalSeconds: 10 });
    clock = Date.now() + 10_000;
    await drain(core);
    expect(countBy(core.results)).toEqual(
      new Map([
        [disabled, 1],
        [deleted, 1],
      ]),
    );

    await core.pool.query("UPDATE checks SET enabled = false WHERE id = $1", [disabled]);
    await core.pool.query("DELETE FROM checks WHERE id = $1", [deleted]);
    clock += 60_000;
    await drain(core);
    expect(core.results).toHaveLength(2);
  });

  it("records how late each run started after its slot, and counts runs by type and status", async () => {
    const core = await startInstance("core", { probe: () => Promise.resolve({ status: "degraded", detail: { reason: "slow" } }) });
    const id = await insertCheck(core.pool, { intervalSeconds: 60 });
    const { rows } = await core.pool.query<{ slot: Date }>(
      "UPDATE check_schedule SET next_run_at = date_trunc('milliseconds', next_run_at) WHERE check_id = $1 RETURNING next_run_at AS slot",
      [id],
    );
    clock = rows[0]!.slot.getTime() + 2_500;
    await drain(core);

    const lag = (await core.registry.getSingleMetric("vantage_check_scheduler_lag_seconds")!.get()).values;
    const named = (suffix: string) =>
      lag.find((value) => (value as { metricName?: string }).metricName === `vantage_check_scheduler_lag_seconds_${suffix}`)!.value;
    const [sum, count] = [named("sum"), named("count")];
    expect(count).toBe(1);
    expect(sum).toBeGreaterThanOrEqual(2.5);
    expect(sum).toBeLessThan(3.5);
    expect(await metricValue(core.registry, "vantage_check_runs_total", { type: "http", status: "degraded" })).toBe(1);
    expect(await metricValue(core.registry, "vantage_check_runs_total", { type: "http", status: "up" })).toBe(0);
  });

  it("cuts off a run at its deadline, however the probe behaves, and reports it timed out", async () => {
    const core = await startInstance("core", { probe: neverAnswers });
    // Long enough that the claim's round trip and any event-loop stall (time the core takes from
    // the run) stay under a quarter of it, even on a loaded host: else the core, not the target, is to blame.
    await insertCheck(core.pool, { intervalSeconds: 10, timeoutMs: 2_000 });
    clock = Date.now() + 10_000;
    await drain(core);
    expect(core.results).toHaveLength(1);
    expect(core.results[0]).toMatchObject({ status: "down", detail: { error: { code: "timeout" } } });
    expect(core.scheduler.inFlight()).toBe(0);
  });

  it("claims no more runs than its concurrency, and more once runs finish", async () => {
    const releases: Array<() => void> = [];
    const core = await startInstance("core", {
      concurrency: 3,
      probe: () => new Promise<ProbeOutcome>((resolve) => releases.push(() => resolve(UP))),
    });
    await insertChecks(core.pool, 5, { intervalSeconds: 60, timeoutMs: 10_000 });
    clock = Date.now() + 60_000;
    expect(await core.scheduler.claimOnce()).toBe(3);
    expect(await core.scheduler.claimOnce()).toBe(0);
    await waitFor(() => releases.length === 3, core.probeCalled.subscribe);
    for (const release of releases.splice(0)) release();
    await core.scheduler.settled();
    expect(await core.scheduler.claimOnce()).toBe(2);
    await waitFor(() => releases.length === 2, core.probeCalled.subscribe);
    for (const release of releases.splice(0)) release();
    await core.scheduler.settled();
    expect(core.results).toHaveLength(5);
  });

  it("frees a run's place once its probe ended, and holds no more results for storage than it may", async () => {
    // The ingest's commit, held until released: results wait for it as they would for a slow database.
    const held: Array<() => void> = [];
    const arrived = createSignal();
    const core = await startInstance("core", {
      concurrency: 2,
      maxPending: 3,
      storing: () =>
        new Promise<void>((resolve) => {
          held.push(resolve);
          arrived.emit();
        }),
    });
    await insertChecks(core.pool, 6, { intervalSeconds: 60, timeoutMs: 10_000 });
    clock = Date.now() + 60_000;
    expect(await core.scheduler.claimOnce()).toBe(2);
    await waitFor(() => held.length === 2, arrived.subscribe);
    // Both probes ended and their results wait: their places are free, up to 3 runs pending in all.
    expect(await core.scheduler.claimOnce()).toBe(1);
    await waitFor(() => held.length === 3, arrived.subscribe);
    expect(await core.scheduler.claimOnce()).toBe(0);
    expect(core.scheduler.inFlight()).toBe(3);
    for (const release of held.splice(0)) release();
    await core.scheduler.settled();
    expect(core.results).toHaveLength(3);
    expect(await core.scheduler.claimOnce()).toBe(2);
    await waitFor(() => held.length === 2, arrived.subscribe);
    for (const release of held.splice(0)) release();
    await core.scheduler.settled();
    expect(core.results).toHaveLength(5);
  });

  it("keeps several claims on their way while they come back full, and never claims more than its room", async () => {
    // Claim statements on their way at once, as the scheduler sends them.
    let claiming = 0;
    let mostClaiming = 0;
    const watched = (pool: pg.Pool) =>
      new Proxy(pool, {
        get(target, key, receiver) {
          if (key !== "query") return Reflect.get(target, key, receiver) as unknown;
          return async (...args: Parameters<pg.Pool["query"]>) => {
            const isClaim = textOf(args[0]) === CLAIM_DUE;
            if (isClaim) mostClaiming = Math.max(mostClaiming, ++claiming);
            try {
              return await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
            } finally {
              if (isClaim) claiming -= 1;
            }
          };
        },
      });
    // Probes that never end hold their places: the loop claims until none is left, then sleeps.
    const core = await startInstance("core", {
      concurrency: 10,
      batchSize: 2,
      claimsInFlight: 3,
      maxIdleMs: 60_000,
      probe: neverAnswers,
      schedulerPool: watched,
    });
    await insertChecks(core.pool, 20, { intervalSeconds: 60, timeoutMs: 30_000 });
    clock = Date.now() + 60_000;
    await core.scheduler.start();
    await waitFor(() => core.probed.length === 10, core.probeCalled.subscribe);
    // Stopping waits for the loop, so every claim it sent has answered.
    await core.scheduler.stop();
    expect(mostClaiming).toBe(3);
    const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM check_schedule WHERE claimed_by = 'core'");
    expect(rows[0]!.n).toBe(10);
    expect(core.probed).toHaveLength(10);
  });

  it("aborts its runs in flight when it stops, and drops their results", async () => {
    let aborted = 0;
    const core = await startInstance("core", {
      probe: (_spec, { signal }) =>
        new Promise<ProbeOutcome>((_resolve, reject) => {
          signal.addEventListener("abort", () => {
            aborted += 1;
            reject(signal.reason as Error);
          });
        }),
    });
    await insertChecks(core.pool, 2, { intervalSeconds: 60, timeoutMs: 30_000 });
    clock = Date.now() + 60_000;
    expect(await core.scheduler.claimOnce()).toBe(2);
    await waitFor(() => core.probed.length === 2, core.probeCalled.subscribe);
    await core.stop();
    expect(aborted).toBe(2);
    expect(core.results).toEqual([]);
  });
});

describe("the scheduling loop", () => {
  it("wakes when a check is scheduled, runs it at its slot and sleeps again", async () => {
    // Without the NOTIFY the loop would sleep a minute: only the wake-up lets this test pass.
    const core = await startInstance("core", { live: true, maxIdleMs: 60_000 });
    await core.scheduler.start();
    const client = await core.pool.connect();
    let id: string;
    try {
      await client.query("BEGIN");
      id = await insertCheck(client, { name: `soon-${randomUUID()}`, intervalSeconds: 60 });
      // Due now rather than at its random offset, so the test waits for nothing else.
      await client.query("UPDATE check_schedule SET next_run_at = now() WHERE check_id = $1", [id]);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    await waitFor(() => core.results.length === 1, core.submitted.subscribe, 10_000, "the run");
    expect(core.results[0]!.checkId).toBe(id);
    const { rows } = await core.pool.query<{ claimed_by: string; next_run_at: Date; claimed_at: Date }>(
      "SELECT claimed_by, next_run_at, claimed_at FROM check_schedule WHERE check_id = $1",
      [id],
    );
    expect(rows[0]!.claimed_by).toBe("core");
    expect(rows[0]!.next_run_at.getTime() - rows[0]!.claimed_at.getTime()).toBeGreaterThanOrEqual(59_000);
  });
});
