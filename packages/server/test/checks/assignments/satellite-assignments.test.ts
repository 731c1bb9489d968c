// Satellite assignments through the real gateway over WebSocket, two core instances on one
// database: welcome carries each satellite's set by ids, regions and tags; a change of a check
// (made through either core) or of a satellite's region or tags is pushed, without a
// reconnect, to exactly the satellites whose set it changed, on whichever core holds them.
import { type Assignment, type CheckDefinition } from "@vantage/protocol";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredCheckRow } from "../../../src/checks/assignments/satellite-check-rows.ts";
import type { CheckResultInput } from "../../../src/checks/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { SATELLITE_PROFILE_CHANGED_CHANNEL } from "../../../src/satellites/index.ts";
import { afterNotices, deleteCheck, saveCheck, satelliteCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, type FakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";
import { killNotificationConnection } from "../../support/notification-connection.ts";

const box = createSecretBox(randomBytes(32));
type Sealed = { sealed: string };

/** Stores credential headers sealed, as the definitions store does (bound to the check id). */
function sealHeaders(definition: CheckDefinition, id: string): unknown {
  if (definition.type !== "http") return definition;
  const headers = Object.fromEntries(Object.entries(definition.headers).map(([name, value]) => [name, { sealed: box.seal(value, `${id}:${name}`) }]));
  return { ...definition, headers };
}

/** The test's `openDefinition`: the stored definition with its sealed headers opened. */
function openDefinition(row: StoredCheckRow): CheckDefinition {
  const stored = row.definition as CheckDefinition;
  if (stored.type !== "http") return stored;
  const sealed = stored.headers as Record<string, string | Sealed>;
  const headers = Object.fromEntries(
    Object.entries(sealed).map(([name, value]) => [name, typeof value === "string" ? value : box.open(value.sealed, `${row.id}:${name}`)]),
  );
  return { ...stored, headers };
}

let a: SatelliteCore;
let b: SatelliteCore;
const submitted: CheckResultInput[] = [];
const open: FakeSatellite[] = [];

beforeAll(async () => {
  const url = (await createTestDatabase()).url;
  a = await startSatelliteCore(url, "assign-a", {
    monitor: false,
    assignments: { openDefinition },
    submitResult: async (result) => void submitted.push(result),
  });
  b = await startSatelliteCore(url, "assign-b", { monitor: false, assignments: { openDefinition } });
});

afterAll(async () => {
  await Promise.all(open.map((satellite) => satellite.close()));
  await a?.stop();
  await b?.stop();
});

/** A new satellite with this region and tags, connected to `core`. */
async function connect(core: SatelliteCore, region: string, tags: string[] = []) {
  const credentials = await a.createSatellite({ region, tags });
  const { satellite, welcome } = await connectFakeSatellite(core.url, credentials);
  open.push(satellite);
  return { id: credentials.satelliteId, satellite, welcome };
}

/** Runs `write` and resolves once both cores received its notice on `channel` and reloaded what it named. */
const followed = <T>(write: () => Promise<T>, channel?: string) => afterNotices([a, b], write, channel);
const save = (...args: Parameters<typeof saveCheck>) => followed(() => saveCheck(...args));
const checkIds = (assignments: readonly Assignment[]) => assignments.map((assignment) => assignment.checkId);

/**
 * Frames on one socket arrive in order: once the answer to a bad frame sent now is in, every
 * frame the core sent this satellite before it is in too.
 */
async function barrier(satellite: FakeSatellite): Promise<void> {
  satellite.send({ type: "barrier" });
  await satellite.next("error", { where: (frame) => frame.code === "invalid_frame" });
}

const pushesTo = (satellite: FakeSatellite) => satellite.received.filter((frame) => frame.type === "assignments");

describe("a satellite's welcome", () => {
  it("carries the enabled checks its selectors pick: by id, by region, by tags, by region and tags", async () => {
    const euA = await a.createSatellite({ region: "sel-eu", tags: ["a"] });
    const euAB = await a.createSatellite({ region: "sel-eu", tags: ["a", "b"] });
    const usB = await a.createSatellite({ region: "sel-us", tags: ["b"] });
    const bare = await a.createSatellite({ region: "sel-ap" });
    const byId = await save(a.pool, satelliteCheck("sel-by-id", { ids: [bare.satelliteId.toUpperCase()] }));
    const inEu = await save(a.pool, satelliteCheck("sel-in-eu", { regions: ["sel-eu"] }));
    const taggedB = await save(a.pool, satelliteCheck("sel-tagged-b", { tags: ["b"] }));
    const euWithAB = await save(a.pool, satelliteCheck("sel-eu-a-b", { regions: ["sel-eu", "elsewhere"], tags: ["a", "b"] }));
    const idOrUs = await save(a.pool, satelliteCheck("sel-id-or-us", { ids: [euA.satelliteId], regions: ["sel-us"] }));
    await save(a.pool, satelliteCheck("sel-disabled", { regions: ["sel-eu"] }, { enabled: false }));
    await save(a.pool, { name: "sel-core-only", type: "tcp", host: "db.example.test", port: 5432 });

    const welcomed = async (credentials: { satelliteId: string; token: string }, core: SatelliteCore) => {
      const { satellite, welcome } = await connectFakeSatellite(core.url, credentials);
      open.push(satellite);
      return welcome.assignments;
    };
    const sorted = (...ids: string[]) => [...ids].sort();
    expect(checkIds(await welcomed(euA, a))).toEqual(sorted(inEu.id, idOrUs.id));
    expect(checkIds(await welcomed(euAB, b))).toEqual(sorted(inEu.id, taggedB.id, euWithAB.id));
    expect(checkIds(await welcomed(usB, a))).toEqual(sorted(taggedB.id, idOrUs.id));
    expect(checkIds(await welcomed(bare, b))).toEqual([byId.id]);
  });

  it("never carries a check of a type the satellite did not announce it can run, at its welcome or after", async () => {
    const tcp = (name: string) => ({ name, type: "tcp" as const, host: "db.example.test", port: 5432, runOn: { satellites: { regions: ["caps"] } } });
    const http = await save(a.pool, satelliteCheck("caps-http", { regions: ["caps"] }));
    const first = await save(a.pool, tcp("caps-tcp"));
    const httpOnly = await a.createSatellite({ region: "caps" });
    const both = await a.createSatellite({ region: "caps" });
    const limited = await connectFakeSatellite(a.url, httpOnly, { capabilities: ["http"] });
    const able = await connectFakeSatellite(b.url, both, { capabilities: ["http", "tcp"] });
    open.push(limited.satellite, able.satellite);
    expect(checkIds(limited.welcome.assignments)).toEqual([http.id]);
    expect(checkIds(able.welcome.assignments)).toEqual([http.id, first.id].sort());

    const second = await save(a.pool, tcp("caps-tcp-2"));
    expect(checkIds((await able.satellite.next("assignments")).assignments)).toEqual([http.id, first.id, second.id].sort());
    await barrier(limited.satellite);
    expect(limited.satellite.received.filter((frame) => frame.type === "assignments")).toHaveLength(0);
  });

  it("gives each assignment the check's probe spec with its credential headers opened, and its revision", async () => {
    const check = await save(
      a.pool,
      satelliteCheck("opened-headers", { regions: ["opened"] }, { headers: { Authorization: "Bearer s3cret", Accept: "text/plain" }, timeoutMs: 2_500 }),
      { stored: sealHeaders },
    );
    const { rows } = await a.pool.query<{ definition: string }>("SELECT definition::text FROM checks WHERE id = $1", [check.id]);
    expect(rows[0]!.definition).not.toContain("s3cret");

    const { welcome } = await connect(b, "opened");
    expect(welcome.assignments).toEqual([
      {
        checkId: check.id,
        name: "opened-headers",
        type: "http",
        intervalSeconds: 60,
        timeoutMs: 2_500,
        revision: check.revision,
        config: expect.objectContaining({
          type: "http",
          url: "https://opened-headers.example.test/",
          timeoutMs: 2_500,
          headers: { Authorization: "Bearer s3cret", Accept: "text/plain" },
        }),
      },
    ]);
    expect(welcome.assignments[0]!.config).not.toHaveProperty("runOn");
    expect(welcome.assignments[0]!.config).not.toHaveProperty("labels");
  });
});

describe("a check's change", () => {
  it("moved from region eu to us: the eu satellite drops it and the us one gains it, without reconnecting; others get nothing", async () => {
    const eu = await connect(a, "move-eu");
    const us = await connect(a, "move-us");
    const ap = await connect(a, "move-ap");
    const check = await save(a.pool, satelliteCheck("moving", { regions: ["move-eu"] }));
    expect(checkIds((await eu.satellite.next("assignments")).assignments)).toEqual([check.id]);

    await saveCheck(a.pool, satelliteCheck("moving", { regions: ["move-us"] }), { id: check.id });
    expect((await eu.satellite.next("assignments")).assignments).toEqual([]);
    const gained = (await us.satellite.next("assignments")).assignments;
    expect(gained).toEqual([expect.objectContaining({ checkId: check.id, revision: check.revision + 1 })]);
    await barrier(ap.satellite);
    expect(pushesTo(ap.satellite)).toEqual([]);

    // The us satellite's results of it are stored as its own location's; the eu satellite's
    // late result of it is acknowledged and dropped.
    const result = us.satellite.result(check.id);
    expect((await us.satellite.next("ack")).resultIds).toEqual([result.resultId]);
    expect(submitted.find((stored) => stored.resultId === result.resultId)).toMatchObject({ checkId: check.id, location: us.id });
    const late = eu.satellite.result(check.id);
    expect((await eu.satellite.next("ack")).resultIds).toEqual([late.resultId]);
    expect(submitted.some((stored) => stored.resultId === late.resultId)).toBe(false);
    for (const { satellite } of [eu, us, ap]) expect(satellite.ws.readyState).toBe(satellite.ws.OPEN);
  });

  it("made through one core reaches the satellites whose sockets the other core holds", async () => {
    const eu = await connect(b, "far-eu");
    const us = await connect(b, "far-us");
    const check = await saveCheck(a.pool, satelliteCheck("far-moving", { regions: ["far-eu"] }));
    expect(checkIds((await eu.satellite.next("assignments")).assignments)).toEqual([check.id]);

    await saveCheck(a.pool, satelliteCheck("far-moving", { regions: ["far-us"] }), { id: check.id });
    expect((await eu.satellite.next("assignments")).assignments).toEqual([]);
    expect(checkIds((await us.satellite.next("assignments")).assignments)).toEqual([check.id]);
  });

  it("saved again with the same selector is pushed with its new revision; disabled or deleted, it is dropped", async () => {
    const sat = await connect(b, "edits");
    const stays = await save(a.pool, satelliteCheck("edits-stays", { regions: ["edits"] }));
    const check = await save(a.pool, satelliteCheck("edits-changes", { regions: ["edits"] }));
    await barrier(sat.satellite);
    const lastPush = () => (pushesTo(sat.satellite).at(-1) as { assignments: Assignment[] }).assignments;
    const revisions = () => Object.fromEntries(lastPush().map((assignment) => [assignment.checkId, assignment.revision]));

    await save(a.pool, satelliteCheck("edits-changes", { regions: ["edits"] }, { intervalSeconds: 30 }), { id: check.id });
    await barrier(sat.satellite);
    expect(revisions()).toEqual({ [stays.id]: stays.revision, [check.id]: check.revision + 1 });
    expect(lastPush().find((assignment) => assignment.checkId === check.id)?.intervalSeconds).toBe(30);

    await save(a.pool, satelliteCheck("edits-changes", { regions: ["edits"] }, { enabled: false }), { id: check.id });
    await barrier(sat.satellite);
    expect(revisions()).toEqual({ [stays.id]: stays.revision });

    await followed(() => deleteCheck(a.pool, stays.id));
    await barrier(sat.satellite);
    expect(revisions()).toEqual({});
  });

  it("that leaves a satellite's set as it was (another region, a label) pushes nothing to it", async () => {
    const sat = await connect(a, "quiet");
    const mine = await save(a.pool, satelliteCheck("quiet-mine", { regions: ["quiet"] }));
    await barrier(sat.satellite);
    const pushed = pushesTo(sat.satellite).length;
    const other = await save(a.pool, satelliteCheck("quiet-other", { regions: ["quiet-elsewhere"] }));
    // Saved again with a label: its revision changes, the satellite's set does not.
    await save(a.pool, satelliteCheck("quiet-other", { regions: ["quiet-elsewhere"] }, { labels: { team: "x" } }), { id: other.id });
    await barrier(sat.satellite);
    expect(pushesTo(sat.satellite)).toHaveLength(pushed);
    expect(checkIds((pushesTo(sat.satellite).at(-1) as { assignments: Assignment[] }).assignments)).toEqual([mine.id]);
  });
});

describe("a satellite's edit", () => {
  it("of its region or tags is pushed by the core holding its socket, whichever core the edit went through", async () => {
    const inEu = await save(a.pool, satelliteCheck("edit-in-eu", { regions: ["edit-eu"] }));
    const inUs = await save(a.pool, satelliteCheck("edit-in-us", { regions: ["edit-us"] }));
    const gpu = await save(a.pool, satelliteCheck("edit-gpu", { tags: ["edit-gpu"] }));
    const sat = await connect(b, "edit-eu");
    expect(checkIds(sat.welcome.assignments)).toEqual([inEu.id]);

    await a.registry.update(sat.id, { region: "edit-us" }, { actor: { type: "user", id: "admin" } });
    expect(checkIds((await sat.satellite.next("assignments")).assignments)).toEqual([inUs.id]);

    await a.registry.update(sat.id, { tags: ["edit-gpu"] }, { actor: { type: "user", id: "admin" } });
    expect(checkIds((await sat.satellite.next("assignments")).assignments)).toEqual([inUs.id, gpu.id].sort());

    // Edits that change nothing it runs push nothing.
    await a.registry.update(sat.id, { name: `renamed-${sat.id}` }, { actor: { type: "user", id: "admin" } });
    await followed(() => a.registry.update(sat.id, { tags: ["edit-gpu"] }, { actor: { type: "user", id: "admin" } }), SATELLITE_PROFILE_CHANGED_CHANNEL);
    await barrier(sat.satellite);
    expect(pushesTo(sat.satellite)).toHaveLength(2);
  });
});

describe("after the notice connection was lost", () => {
  it("a change made meanwhile is still pushed: the core reloads everything once it listens again", async () => {
    const sat = await connect(a, "resync");
    const reconnected = new Promise<void>((resolve) => {
      const off = a.hub.onReconnect(() => {
        off();
        resolve();
      });
    });
    // Only the LISTEN connection of core a: its pool's other connections keep working.
    await killListener("assign-a");
    const check = await saveCheck(b.pool, satelliteCheck("resync-missed", { regions: ["resync"] }));
    await reconnected;
    expect(checkIds((await sat.satellite.next("assignments")).assignments)).toEqual([check.id]);
  });
});

async function killListener(applicationName: string): Promise<void> {
  expect(await killNotificationConnection(b.pool, applicationName)).toBe(1);
}
