// The heartbeat monitor records each expiry once, however many sweeps or instances, on one instance at a time that another takes over.
import { randomUUID } from "node:crypto";
import { OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntityRegistry } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { createHeartbeatMonitor, type HeartbeatMonitor, type HeartbeatMonitorOptions } from "../../../src/satellites/connection/heartbeat-monitor.ts";
import { SatelliteService } from "../../../src/satellites/connection/service.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, killConnections, waitFor } from "../../support/instance.ts";

const logger = silentLogger();
let clock = Date.parse("2026-05-04T10:00:00.000Z");
let url: string;
const pools: pg.Pool[] = [];
const monitors: HeartbeatMonitor[] = [];

/** One core process as far as the monitor goes: its own named pool, service and monitor, on the shared clock. */
function startInstance(name: string, options: Partial<HeartbeatMonitorOptions> = {}) {
  const pool = createPool(url, logger, { max: 4, applicationName: name });
  pools.push(pool);
  const satellites = new SatelliteService({ pool, entities: createEntityRegistry({ pool, logger }), now: () => clock, logger });
  const monitor = createHeartbeatMonitor({ pool, satellites, logger, ...options });
  monitors.push(monitor);
  return { pool, satellites, monitor };
}

let a: ReturnType<typeof startInstance>;
let b: ReturnType<typeof startInstance>;

beforeAll(async () => {
  url = (await createTestDatabase()).url;
  a = startInstance("monitor-a");
  b = startInstance("monitor-b");
});

afterAll(async () => {
  for (const monitor of monitors) await monitor.stop();
  await Promise.all(pools.map((pool) => pool.end()));
});

let created = 0;
async function connected(count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      created += 1;
      const id = await a.satellites.create({ name: `mon-${created}`, region: "eu", tokenHash: "unused" });
      await a.satellites.markConnected({ satelliteId: id, sessionId: randomUUID() });
      return id;
    }),
  );
}

async function lostChanges(ids: string[]): Promise<number> {
  const { rows } = await a.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM entity_changes WHERE entity_id = ANY($1) AND next ->> 'lastEvent' = 'heartbeat_lost'",
    [ids],
  );
  return rows[0]!.n;
}

const poll = (wake: () => void) => {
  const timer = setInterval(wake, 10);
  return () => clearInterval(timer);
};

describe("the heartbeat monitor", () => {
  it("records heartbeat_lost once per expired satellite, however many sweeps run on however many instances", async () => {
    const expired = await connected(3);
    clock += OFFLINE_THRESHOLD_MS + 1;
    const fresh = await connected(2);

    const results = await Promise.all([a.monitor.sweep(), b.monitor.sweep(), a.monitor.sweep(), b.monitor.sweep()]);

    expect(results.flat().sort()).toEqual([...expired].sort());
    expect(await lostChanges(expired)).toBe(3);
    expect(await lostChanges(fresh)).toBe(0);
    expect(await a.monitor.sweep()).toEqual([]);
  });

  it("does not record a satellite whose heartbeat is exactly at its threshold", async () => {
    const [id] = await connected(1);
    clock += OFFLINE_THRESHOLD_MS;
    expect(await a.monitor.sweep()).not.toContain(id);
    clock += 1;
    expect(await a.monitor.sweep()).toContain(id);
  });

  it("records a sweep's backlog as disjoint batches side by side, each its own transaction, each loss once", async () => {
    const ids = await connected(7);
    clock += OFFLINE_THRESHOLD_MS + 1;
    const parallel = startInstance("monitor-parallel", { batchSize: 2, parallelBatches: 3 });

    // A sweep reads 2 × 3 and records them as three transactions of two.
    const first = await parallel.monitor.sweep();
    expect(first).toHaveLength(6);
    const { rows } = await a.pool.query<{ xid: string; n: number }>(
      `SELECT xid::text, count(*)::int AS n FROM entity_changes
       WHERE entity_id = ANY($1) AND next ->> 'lastEvent' = 'heartbeat_lost' GROUP BY xid`,
      [first],
    );
    expect(rows.map((row) => row.n).sort()).toEqual([2, 2, 2]);

    await parallel.monitor.sweep();
    expect(await lostChanges(ids)).toBe(7);
    expect(await parallel.monitor.sweep()).toEqual([]);
  });

  it("splits a backlog between the batches of two instances sweeping at once: each loss once, recorded by both", async () => {
    const ids = await connected(9);
    clock += OFFLINE_THRESHOLD_MS + 1;
    const x = startInstance("monitor-split-x", { batchSize: 2, parallelBatches: 2 });
    const y = startInstance("monitor-split-y", { batchSize: 2, parallelBatches: 2 });

    const recorded: string[][] = [];
    for (;;) {
      const [byX, byY] = await Promise.all([x.monitor.sweep(), y.monitor.sweep()]);
      recorded.push(byX, byY);
      if (byX.length === 0 && byY.length === 0) break;
    }
    const all = recorded.flat();
    expect([...all].sort()).toEqual([...ids].sort());
    expect(await lostChanges(ids)).toBe(9);
    // The first sweeps of both recorded: neither read the other's satellites and found them taken.
    expect(recorded[0]!.length).toBeGreaterThan(0);
    expect(recorded[1]!.length).toBeGreaterThan(0);
  });

  it("has standbys sweep too when asked, each loss still once", async () => {
    const sweeps = createSignal();
    const lost: string[] = [];
    const onSweep = (found: readonly string[]) => {
      lost.push(...found);
      sweeps.emit();
    };
    let helperSweeps = 0;
    const leader = startInstance("monitor-standby-leader", { intervalMs: 50, onSweep });
    const helper = startInstance("monitor-standby-helper", {
      intervalMs: 50,
      onSweep: (found) => {
        helperSweeps++;
        onSweep(found);
      },
    });
    leader.monitor.start();
    await waitFor(() => leader.monitor.isLeader(), poll, 5_000, "the first monitor to lead");
    helper.monitor.start();
    const ids = await connected(4);
    clock += OFFLINE_THRESHOLD_MS + 1;
    await waitFor(() => ids.every((id) => lost.includes(id)), sweeps.subscribe, 5_000, "all four to be recorded");
    expect(helper.monitor.isLeader()).toBe(false);
    await waitFor(() => helperSweeps > 0, sweeps.subscribe, 5_000, "the standby to sweep");
    expect(await lostChanges(ids)).toBe(4);
    expect(lost.filter((id) => ids.includes(id))).toHaveLength(4);
    await leader.monitor.stop();
    await helper.monitor.stop();
  });

  it("runs on one instance at a time, and another takes over within 5 s when the active one's connection dies", async () => {
    const sweeps = createSignal();
    const lost: string[] = [];
    const onSweep = (ids: readonly string[]) => {
      lost.push(...ids);
      sweeps.emit();
    };
    const first = startInstance("monitor-first", { intervalMs: 50, onSweep });
    const second = startInstance("monitor-second", { intervalMs: 50, onSweep });
    first.monitor.start();
    await waitFor(() => first.monitor.isLeader(), poll, 5_000, "the first monitor to lead");
    second.monitor.start();

    const ids = await connected(2);
    clock += OFFLINE_THRESHOLD_MS + 1;
    await waitFor(() => ids.every((id) => lost.includes(id)), sweeps.subscribe, 5_000, "the active monitor to record both");
    expect(second.monitor.isLeader()).toBe(false);

    await killConnections(url, "monitor-first");
    await waitFor(() => second.monitor.isLeader(), poll, 5_000, "the second monitor to take over");
    const later = await connected(1);
    clock += OFFLINE_THRESHOLD_MS + 1;
    await waitFor(() => lost.includes(later[0]!), sweeps.subscribe, 5_000, "the new active monitor to record it");
    expect(await lostChanges([...ids, ...later])).toBe(3);
    // The first one is a standby now: its lock went with its connection.
    expect(first.monitor.isLeader()).toBe(false);
  });

  it("works through a backlog larger than one batch without waiting for the next interval", async () => {
    const sweeps = createSignal();
    const lost: string[] = [];
    for (const monitor of monitors) await monitor.stop();
    const ids = await connected(5);
    clock += OFFLINE_THRESHOLD_MS + 1;
    const batched = startInstance("monitor-batched", {
      batchSize: 2,
      intervalMs: 2_000,
      onSweep: (found) => {
        lost.push(...found);
        sweeps.emit();
      },
    });
    const started = Date.now();
    batched.monitor.start();
    // Sweeps of 2, 2 and 1 back to back; a pause between them would be the 2 s interval.
    await waitFor(() => ids.every((id) => lost.includes(id)), sweeps.subscribe, 5_000, "all five to be recorded");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
