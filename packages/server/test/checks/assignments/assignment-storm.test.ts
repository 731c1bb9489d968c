// A reconnect storm with checks assigned: 2,000 satellites connecting at once are each welcomed
// with their own set, computed in memory — not one query of the checks table — and a later
// change of one check is pushed to the satellites it concerns and to no other.
import type { Assignment } from "@vantage/protocol";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { saveCheck, satelliteCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, type FakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";
import { statementsSent, textOf } from "../../support/query-text.ts";

const STORM = 2_000;
/** Connects in flight at once, as bench/satellite-fleet storms (more overflow the listen backlog of one test process). */
const STORM_CONCURRENCY = 500;
const REGIONS = ["storm-eu", "storm-us", "storm-ap"];

let core: SatelliteCore;
let fleet: Array<{ satelliteId: string; token: string; region: string; even: boolean }>;
/** Check ids by what selects them. */
const byRegion = new Map<string, string[]>();
let evenChecks: string[];
let firstOnly: string;

beforeAll(async () => {
  const url = (await createTestDatabase()).url;
  core = await startSatelliteCore(url, "assign-storm", {
    monitor: false,
    startHeartbeats: false,
    assignments: true,
    // One client address connects the whole storm here.
    gateway: { maxUnauthenticatedPerAddress: 2 * STORM },
  });
  fleet = [];
  for (let start = 0; start < STORM; start += 100) {
    const batch = Array.from({ length: Math.min(100, STORM - start) }, async (_, offset) => {
      const i = start + offset;
      const region = REGIONS[i % REGIONS.length]!;
      const even = i % 2 === 0;
      const credentials = await core.createSatellite({ name: `storm-${i}`, region, tags: even ? ["even"] : [] });
      return { ...credentials, region, even };
    });
    fleet.push(...(await Promise.all(batch)));
  }
  // First: its notice reloads nothing, and the last notice below is the one waited for.
  await saveCheck(core.pool, { name: "storm-core-only", type: "tcp", host: "db.example.test", port: 5432 });
  for (const region of REGIONS) {
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push((await saveCheck(core.pool, satelliteCheck(`${region}-${n}`, { regions: [region] }))).id);
    byRegion.set(region, ids);
  }
  evenChecks = [];
  for (let n = 0; n < 3; n++) evenChecks.push((await saveCheck(core.pool, satelliteCheck(`storm-even-${n}`, { tags: ["even"] }))).id);
  firstOnly = (await saveCheck(core.pool, satelliteCheck("storm-first", { ids: [fleet[0]!.satelliteId] }))).id;
  // Every notice was followed once the last one's check is in (notices arrive, and are reloaded, in order).
  await vi.waitUntil(() => core.assignments!.settled().then(() => indexedChecks().then((n) => n === 3 * 5 + 3 + 1)), { timeout: 10_000, interval: 20 });
}, 120_000);

afterAll(async () => {
  await core?.stop();
});

async function indexedChecks(): Promise<number> {
  const metric = await core.metrics.getSingleMetric("vantage_satellite_assignable_checks")!.get();
  return metric.values[0]?.value ?? 0;
}

async function pushes(): Promise<number> {
  const metric = await core.metrics.getSingleMetric("vantage_satellite_assignment_pushes_total")!.get();
  return metric.values[0]?.value ?? 0;
}

function expectedSet(i: number): string[] {
  const member = fleet[i]!;
  return [...byRegion.get(member.region)!, ...(member.even ? evenChecks : []), ...(i === 0 ? [firstOnly] : [])].sort();
}

const checkIds = (assignments: readonly Assignment[]) => assignments.map((assignment) => assignment.checkId);

describe("a reconnect storm with checks assigned", () => {
  let connected: FakeSatellite[] = [];

  afterAll(async () => {
    await Promise.all(connected.map((satellite) => satellite.close()));
  });

  it(`welcomes ${STORM} satellites at once, each with its own set, without one query of the checks table`, async () => {
    const spy = vi.spyOn(pg.Client.prototype, "query");
    const welcomes: Array<Awaited<ReturnType<typeof connectFakeSatellite>>> = [];
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < STORM; i = next++) welcomes[i] = await connectFakeSatellite(core.url, fleet[i]!);
    };
    await Promise.allSettled(Array.from({ length: STORM_CONCURRENCY }, lane));
    // Restoring forgets the calls: read them first.
    const queries = statementsSent(spy.mock.calls).map(textOf);
    spy.mockRestore();
    connected = welcomes.filter(Boolean).map(({ satellite }) => satellite);
    expect(connected).toHaveLength(STORM);
    expect(queries.filter((query) => /\bfrom\s+checks\b/i.test(query))).toEqual([]);
    // The storm did reach the database (its credentials and connects), so the spy saw what ran.
    expect(queries.some((query) => /\bsatellites\b/.test(query))).toBe(true);
    welcomes.forEach(({ welcome }, i) => expect(checkIds(welcome.assignments), `satellite ${i}`).toEqual(expectedSet(i)));
  }, 120_000);

  it("pushes a change of one region's check to that region's satellites only", async () => {
    const before = await pushes();
    const region = REGIONS[1]!;
    const changed = byRegion.get(region)![0]!;
    await saveCheck(core.pool, satelliteCheck(`${region}-0`, { regions: [region] }, { intervalSeconds: 120 }), { id: changed });
    const members = fleet.flatMap((member, i) => (member.region === region ? [i] : []));
    for (const i of members) {
      const pushed = await connected[i]!.next("assignments");
      expect(pushed.assignments.find((assignment) => assignment.checkId === changed)?.intervalSeconds).toBe(120);
    }
    await core.assignments!.settled();
    expect((await pushes()) - before).toBe(members.length);
  }, 60_000);
});
