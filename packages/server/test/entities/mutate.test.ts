// Entity mutations: each change recorded with actor, cause and transitions in the owner's transaction, or nothing; concurrent ones serialized.
import { SYSTEM_ACTOR, type Actor } from "@vantage/protocol";
import { z } from "zod";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SqlClient } from "../../src/entities/index.ts";
import { withTransaction } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { roundTripsOfTransaction } from "../support/query-text.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";
import { CREATE_THINGS, defineThings, deleteThing, incrementThing, upsertThing } from "../support/entities/things.ts";

let a: TestInstance;
let b: TestInstance;
let thingsA: ReturnType<typeof defineThings>;
let thingsB: ReturnType<typeof defineThings>;
const alice: Actor = { type: "user", id: "u-alice", name: "alice" };

beforeAll(async () => {
  const db = await createTestDatabase();
  a = await startTestInstance(db.url, "mutate-a");
  b = await startTestInstance(db.url, "mutate-b");
  await a.pool.query(CREATE_THINGS);
  thingsA = defineThings(a.entities, a.pool);
  thingsB = defineThings(b.entities, b.pool);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function countRows(table: string, id: string): Promise<number> {
  const column = table === "test_things" ? "id" : "entity_id";
  const { rows } = await a.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [id]);
  return rows[0]!.n;
}

/**
 * A kind over test_things whose read answers in two round trips (a statement issued after the
 * first one's answer): it cannot be sent in one trip with its lock. `onRead` counts its reads.
 */
function defineTwoTripThings(kind: string, onRead: () => void = () => {}) {
  return a.entities.defineEntity({
    kind,
    schema: z.object({ value: z.number() }),
    read: async (ids, tx) => {
      onRead();
      const db = tx ?? a.pool;
      await db.query("SELECT 1");
      const { rows } = await db.query<{ id: string; value: number }>("SELECT id, value FROM test_things WHERE id = ANY($1)", [ids]);
      return new Map(rows.map((row) => [row.id, { value: row.value }]));
    },
  });
}

describe("defineEntity", () => {
  it("rejects a kind that is already defined", () => {
    expect(() => defineThings(a.entities, a.pool)).toThrow(/already defined/);
  });

  it("rejects a schema that is not a zod object", () => {
    expect(() => a.entities.defineEntity({ kind: "bad", schema: z.string() as unknown as z.ZodObject, read: async () => new Map() })).toThrow(/zod object/);
  });
});

describe("mutate", () => {
  it("records a create with prev null, the actor, the cause and one transition per field", async () => {
    const { change, prev, next } = await thingsA.mutate({
      id: "create-1",
      actor: alice,
      cause: { type: "request", id: "req-1" },
      apply: upsertThing("create-1", 1, "one"),
    });
    expect(prev).toBeNull();
    expect(next).toEqual({ value: 1, label: "one" });
    expect(change).toMatchObject({
      kind: "thing",
      id: "create-1",
      prev: null,
      next: { value: 1, label: "one" },
      delta: { value: 1, label: "one" },
      changedFields: ["label", "value"],
      actor: alice,
      cause: { type: "request", id: "req-1" },
    });
    expect(change!.seq).toBeGreaterThan(0);
    // A time-ordered uuid (version 7): the runs it decides are keyed by it (storage/time-ordered-uuid.ts).
    expect(change!.changeId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { rows } = await a.pool.query("SELECT field, from_value, to_value FROM entity_transitions WHERE entity_id = 'create-1' ORDER BY field");
    expect(rows).toEqual([
      { field: "label", from_value: null, to_value: "one" },
      { field: "value", from_value: null, to_value: 1 },
    ]);
  });

  it("records only the fields that changed", async () => {
    await thingsA.mutate({ id: "update-1", actor: SYSTEM_ACTOR, apply: upsertThing("update-1", 1, "same") });
    const { change } = await thingsA.mutate({ id: "update-1", actor: SYSTEM_ACTOR, apply: upsertThing("update-1", 2, "same") });
    expect(change).toMatchObject({ prev: { value: 1, label: "same" }, next: { value: 2, label: "same" }, changedFields: ["value"], delta: { value: 2 } });
  });

  it("records nothing when the state did not change", async () => {
    await thingsA.mutate({ id: "noop-1", actor: SYSTEM_ACTOR, apply: upsertThing("noop-1", 5) });
    const result = await thingsA.mutate({ id: "noop-1", actor: SYSTEM_ACTOR, apply: upsertThing("noop-1", 5) });
    expect(result.change).toBeNull();
    expect(await countRows("entity_changes", "noop-1")).toBe(1);
  });

  it("rolls back the owner's write, the change and the transitions when apply throws", async () => {
    const failing = thingsA.mutate({
      id: "throw-1",
      actor: SYSTEM_ACTOR,
      apply: async (tx) => {
        await upsertThing("throw-1", 1)(tx);
        throw new Error("apply failed halfway");
      },
    });
    await expect(failing).rejects.toThrow("apply failed halfway");
    expect(await countRows("test_things", "throw-1")).toBe(0);
    expect(await countRows("entity_changes", "throw-1")).toBe(0);
    expect(await countRows("entity_transitions", "throw-1")).toBe(0);
  });

  it("rolls back everything when the new state fails the schema", async () => {
    await expect(thingsA.mutate({ id: "invalid-1", actor: SYSTEM_ACTOR, apply: upsertThing("invalid-1", -5) })).rejects.toThrow(
      /thing invalid-1: the new state is invalid/,
    );
    expect(await countRows("test_things", "invalid-1")).toBe(0);
    expect(await countRows("entity_changes", "invalid-1")).toBe(0);
  });

  it("reads the new state after every statement of an apply that awaits between its statements", async () => {
    const { prev, next, change } = await thingsA.mutate({
      id: "turns-1",
      actor: SYSTEM_ACTOR,
      apply: async (tx) => {
        await upsertThing("turns-1", 1, "first")(tx);
        await upsertThing("turns-1", 2, "second")(tx);
      },
    });
    expect(prev).toBeNull();
    expect(next).toEqual({ value: 2, label: "second" });
    expect(change).toMatchObject({ next: { value: 2, label: "second" } });
  });

  it("reads the new state after the write of an apply that awaits before issuing it", async () => {
    await thingsA.mutate({ id: "late-1", actor: SYSTEM_ACTOR, apply: upsertThing("late-1", 1) });
    const { prev, next } = await thingsA.mutate({
      id: "late-1",
      actor: SYSTEM_ACTOR,
      apply: async (tx) => {
        await new Promise((resolve) => setImmediate(resolve));
        await incrementThing("late-1")(tx);
      },
    });
    expect(prev).toEqual({ value: 1, label: "x" });
    expect(next).toEqual({ value: 2, label: "x" });
  });

  it("sends an apply function's write with the reads around it: two round trips", async () => {
    await thingsA.mutate({ id: "trips-1", actor: SYSTEM_ACTOR, apply: upsertThing("trips-1", 1) });
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      const { prev, next } = await thingsA.mutate({ id: "trips-1", actor: SYSTEM_ACTOR, apply: incrementThing("trips-1") });
      expect([prev, next]).toEqual([
        { value: 1, label: "x" },
        { value: 2, label: "x" },
      ]);
      // The mutation's round trips: what its connection was sent from BEGIN to COMMIT (other work shares the pool).
      const trips = roundTripsOfTransaction(spy, (texts) => texts.some((text) => text.includes("UPDATE test_things")));
      expect(trips).toHaveLength(2);
      expect(trips[0]).toEqual([
        "BEGIN",
        expect.stringContaining("pg_advisory_xact_lock"),
        expect.stringContaining("SELECT id, value, label FROM test_things"),
        expect.stringContaining("UPDATE test_things"),
        expect.stringContaining("SELECT id, value, label FROM test_things"),
      ]);
      expect(trips[1]).toEqual([expect.stringContaining("INSERT INTO entity_changes"), "COMMIT"]);
    } finally {
      spy.mockRestore();
    }
  });

  it("remove records a tombstone", async () => {
    await thingsA.mutate({ id: "remove-1", actor: SYSTEM_ACTOR, apply: upsertThing("remove-1", 3, "bye") });
    const { change } = await thingsA.remove({ id: "remove-1", actor: alice, apply: deleteThing("remove-1") });
    expect(change).toMatchObject({ prev: { value: 3, label: "bye" }, next: null, changedFields: ["label", "value"], delta: { label: null, value: null } });
    expect(await thingsA.get("remove-1")).toBeNull();
  });

  it("serializes 20 concurrent mutations of one entity into 20 changes whose prev/next chain without gaps", async () => {
    await thingsA.mutate({ id: "race-1", actor: SYSTEM_ACTOR, apply: upsertThing("race-1", 0) });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? thingsA : thingsB).mutate({ id: "race-1", actor: SYSTEM_ACTOR, apply: incrementThing("race-1") })),
    );
    const history = (await thingsA.history("race-1", { limit: 100 })).reverse();
    expect(history).toHaveLength(21);
    history.slice(1).forEach((change, i) => {
      expect(change.prev).toEqual(history[i]!.next);
      expect(change.next).toEqual({ value: i + 1, label: "x" });
    });
  });

  it("runs the owner's read and write as statements prepared on the connection, named once per text", async () => {
    await thingsA.mutate({ id: "prepared-1", actor: SYSTEM_ACTOR, apply: upsertThing("prepared-1", 1) });
    let prepared: string[] = [];
    // The apply function runs on the mutation's connection, after the read of prev was sent on it.
    await thingsA.mutate({
      id: "prepared-1",
      actor: SYSTEM_ACTOR,
      apply: async (tx) => {
        await tx.query("UPDATE test_things SET value = value + 1 WHERE id = $1", ["prepared-1"]);
        const { rows } = await tx.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'vantage_entity_%'");
        prepared = rows.map((row) => row.statement);
      },
    });
    expect(prepared).toContain("UPDATE test_things SET value = value + 1 WHERE id = $1");
    expect(prepared.some((statement) => statement.startsWith("SELECT") && statement.includes("test_things"))).toBe(true);
  });

  it("a change written through one instance reads identically through another", async () => {
    const { change } = await thingsA.mutate({ id: "shared-1", actor: alice, apply: upsertThing("shared-1", 7, "seven") });
    expect(await thingsB.get("shared-1")).toEqual(await thingsA.get("shared-1"));
    expect((await thingsB.history("shared-1"))[0]).toEqual((await thingsA.history("shared-1"))[0]);
    expect((await thingsB.history("shared-1"))[0]).toEqual(change);
  });
});

describe("mutate with a single-statement write (sent with the reads around it)", () => {
  const setThing = (id: string, value: number) => ({
    text: "INSERT INTO test_things (id, value, label) VALUES ($1, $2, 'x') ON CONFLICT (id) DO UPDATE SET value = $2",
    values: [id, value],
  });

  it("records a create, then only what changed, then nothing for a write that changes nothing", async () => {
    const created = await thingsA.mutate({ id: "stmt-1", actor: alice, cause: { type: "request", id: "r" }, apply: setThing("stmt-1", 1) });
    expect(created).toMatchObject({ prev: null, next: { value: 1, label: "x" }, change: { prev: null, actor: alice, cause: { type: "request", id: "r" } } });
    const updated = await thingsA.mutate({ id: "stmt-1", actor: alice, apply: setThing("stmt-1", 2) });
    expect(updated.change).toMatchObject({ prev: { value: 1, label: "x" }, next: { value: 2, label: "x" }, changedFields: ["value"] });
    expect((await thingsA.mutate({ id: "stmt-1", actor: alice, apply: setThing("stmt-1", 2) })).change).toBeNull();
    expect(await countRows("entity_changes", "stmt-1")).toBe(2);
  });

  it("rolls back when the statement fails or the new state fails the schema, leaving the connection usable", async () => {
    const failing = thingsA.mutate({
      id: "stmt-fail",
      actor: SYSTEM_ACTOR,
      apply: { text: "INSERT INTO test_things (id, value) VALUES ($1, 1)", values: ["stmt-fail"] },
    });
    await expect(failing).rejects.toThrow(/label/);
    await expect(thingsA.mutate({ id: "stmt-fail", actor: SYSTEM_ACTOR, apply: setThing("stmt-fail", -1) })).rejects.toThrow(/invalid/);
    expect(await countRows("test_things", "stmt-fail")).toBe(0);
    expect(await countRows("entity_changes", "stmt-fail")).toBe(0);
    const { rows } = await a.pool.query<{ one: number }>("SELECT 1 AS one");
    expect(rows).toEqual([{ one: 1 }]);
  });

  it("serializes 20 concurrent mutations of one entity from two instances into a chain without gaps", async () => {
    await thingsA.mutate({ id: "stmt-race", actor: SYSTEM_ACTOR, apply: setThing("stmt-race", 0) });
    const increment = { text: "UPDATE test_things SET value = value + 1 WHERE id = $1", values: ["stmt-race"] };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? thingsA : thingsB).mutate({ id: "stmt-race", actor: SYSTEM_ACTOR, apply: increment })));
    const history = (await thingsA.history("stmt-race", { limit: 100 })).reverse();
    expect(history.map((change) => change.next)).toEqual(Array.from({ length: 21 }, (_, i) => ({ value: i, label: "x" })));
    history.slice(1).forEach((change, i) => expect(change.prev).toEqual(history[i]!.next));
  });

  it("falls back to mutating in turns for a kind whose read answers in two round trips, with the right prev", async () => {
    let reads = 0;
    const twoTrips = defineTwoTripThings("two-trip-thing", () => reads++);
    await a.pool.query("INSERT INTO test_things (id, value, label) VALUES ('two-trip', 1, 'x')");
    const bump = { text: "UPDATE test_things SET value = value + 1 WHERE id = $1", values: ["two-trip"] };
    for (const expected of [2, 3]) {
      const { change } = await twoTrips.mutate({ id: "two-trip", actor: SYSTEM_ACTOR, apply: bump });
      expect(change).toMatchObject({ prev: { value: expected - 1 }, next: { value: expected } });
    }
    // The first mutation's pipelined attempt read three times (the late statement of its prev
    // read also made the read of next look early) and was rolled back; the second did not try.
    expect(reads).toBe(7);
    expect(await thingsA.get("two-trip")).toEqual({ value: 3, label: "x" });
  });

  it("runs an apply function again, in turns, for a kind whose read answers in two round trips", async () => {
    const twoTrips = defineTwoTripThings("two-trip-fn-thing");
    await a.pool.query("INSERT INTO test_things (id, value, label) VALUES ('two-trip-fn', 1, 'x')");
    let applied = 0;
    const bump = (tx: SqlClient) => {
      applied++;
      return incrementThing("two-trip-fn")(tx);
    };
    for (const expected of [2, 3]) {
      const { change } = await twoTrips.mutate({ id: "two-trip-fn", actor: SYSTEM_ACTOR, apply: bump });
      expect(change).toMatchObject({ prev: { value: expected - 1 }, next: { value: expected } });
    }
    // The first mutation's pipelined attempt was rolled back (its increment with it); the second ran in turns.
    expect(applied).toBe(3);
    expect(await thingsA.get("two-trip-fn")).toEqual({ value: 3, label: "x" });
  });

  it("fails, writing nothing, when the owner's write swallowed the error of a failed statement", async () => {
    const swallowing = thingsA.mutate({
      id: "swallow-1",
      actor: SYSTEM_ACTOR,
      apply: async (tx) => {
        await upsertThing("swallow-1", 1)(tx);
        await tx.query("SELECT 1 / 0").catch(() => undefined);
      },
    });
    await expect(swallowing).rejects.toThrow();
    expect(await countRows("test_things", "swallow-1")).toBe(0);
    expect(await countRows("entity_changes", "swallow-1")).toBe(0);
  });
});

describe("mutateMany", () => {
  const setMany = (ids: readonly string[], value: number) => (tx: SqlClient) =>
    tx.query("INSERT INTO test_things (id, value, label) SELECT unnest($1::text[]), $2, 'x' ON CONFLICT (id) DO UPDATE SET value = $2", [ids, value]);

  it("records one change per entity that changed, in one transaction, and nothing for the others", async () => {
    await thingsA.mutate({ id: "many-same", actor: SYSTEM_ACTOR, apply: upsertThing("many-same", 9) });
    const ids = ["many-b", "many-a", "many-same", "many-a"];
    const results = await thingsA.mutateMany({ ids, actor: alice, apply: (tx, sorted) => setMany(sorted, 9)(tx) });
    expect(results.map((r) => r.id)).toEqual(["many-a", "many-b", "many-same"]);
    expect(results.map((r) => r.change === null)).toEqual([false, false, true]);
    expect(results[0]!.change).toMatchObject({ kind: "thing", id: "many-a", prev: null, next: { value: 9, label: "x" }, actor: alice });
    const { rows } = await a.pool.query<{ n: number }>("SELECT count(DISTINCT xid)::int AS n FROM entity_changes WHERE entity_id IN ('many-a', 'many-b')");
    expect(rows[0]!.n).toBe(1);
    expect(await thingsB.get("many-b")).toEqual({ value: 9, label: "x" });
  });

  it("reads the new states after every statement of an apply that awaits between its statements", async () => {
    const results = await thingsA.mutateMany({
      ids: ["many-turns-1", "many-turns-2"],
      actor: SYSTEM_ACTOR,
      apply: async (tx, sorted) => {
        await setMany(sorted, 1)(tx);
        await setMany(sorted, 2)(tx);
      },
    });
    expect(results.map((result) => result.next)).toEqual([
      { value: 2, label: "x" },
      { value: 2, label: "x" },
    ]);
  });

  it("rolls everything back when the write throws", async () => {
    const failing = thingsA.mutateMany({
      ids: ["many-fail-1", "many-fail-2"],
      actor: SYSTEM_ACTOR,
      apply: async (tx, sorted) => {
        await setMany(sorted, 1)(tx);
        throw new Error("bulk write failed");
      },
    });
    await expect(failing).rejects.toThrow("bulk write failed");
    expect(await countRows("entity_changes", "many-fail-1")).toBe(0);
    expect(await countRows("test_things", "many-fail-2")).toBe(0);
  });

  it("records in a transaction the caller owns: committed with the caller's own write, or rolled back with it", async () => {
    const recorded = await withTransaction(a.pool, async (tx) => {
      await tx.query("INSERT INTO test_things (id, value, label) VALUES ('caller-own', 5, 'own')");
      return thingsA.mutateMany({ ids: ["caller-tx-1"], actor: SYSTEM_ACTOR, tx, apply: (client, sorted) => setMany(sorted, 3)(client) });
    });
    expect(recorded[0]!.change).toMatchObject({ id: "caller-tx-1", next: { value: 3, label: "x" } });
    thingsA.announce(recorded.flatMap((result) => (result.change ? [result.change] : [])));
    expect(await countRows("entity_changes", "caller-tx-1")).toBe(1);

    const failing = withTransaction(a.pool, async (tx) => {
      await thingsA.mutateMany({ ids: ["caller-tx-2"], actor: SYSTEM_ACTOR, tx, apply: (client, sorted) => setMany(sorted, 3)(client) });
      throw new Error("the caller's own work failed after the mutation");
    });
    await expect(failing).rejects.toThrow("the caller's own work failed");
    expect(await countRows("entity_changes", "caller-tx-2")).toBe(0);
    expect(await countRows("test_things", "caller-tx-2")).toBe(0);
  });

  it("with a repeatable apply, sends the write with the lock and the reads of prev and next: two round trips", async () => {
    const ids = ["rep-trips-1", "rep-trips-2"];
    await thingsA.mutateMany({ ids, actor: SYSTEM_ACTOR, apply: (tx, sorted) => setMany(sorted, 1)(tx) });
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      const results = await thingsA.mutateMany({ ids, actor: SYSTEM_ACTOR, repeatableApply: true, apply: (tx, sorted) => setMany(sorted, 2)(tx) });
      expect(results.map(({ prev, next }) => [prev, next])).toEqual(
        ids.map(() => [
          { value: 1, label: "x" },
          { value: 2, label: "x" },
        ]),
      );
      // The batch's round trips: what its connection was sent from BEGIN to COMMIT (other work shares the pool).
      const trips = roundTripsOfTransaction(spy, (texts) => texts.some((text) => text.includes("INSERT INTO test_things")));
      expect(trips).toEqual([
        [
          "BEGIN",
          expect.stringContaining("pg_advisory_xact_lock"),
          expect.stringContaining("SELECT id, value, label FROM test_things"),
          expect.stringContaining("INSERT INTO test_things"),
          expect.stringContaining("SELECT id, value, label FROM test_things"),
        ],
        [expect.stringContaining("INSERT INTO entity_changes"), "COMMIT"],
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("sends beforeCommit's statements with the outbox rows and COMMIT, and takes a batch of one's lock as mutate does", async () => {
    const ids = ["before-commit-1"];
    await thingsA.mutateMany({ ids, actor: SYSTEM_ACTOR, apply: (tx, sorted) => setMany(sorted, 1)(tx) });
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      const [result] = await thingsA.mutateMany({
        ids,
        actor: SYSTEM_ACTOR,
        repeatableApply: true,
        apply: (tx, sorted) => setMany(sorted, 2)(tx),
        beforeCommit: (tx) => tx.query("SELECT $1::int -- before commit", [1]),
      });
      expect(result).toMatchObject({ prev: { value: 1 }, next: { value: 2 }, change: { changedFields: ["value"] } });
      const trips = roundTripsOfTransaction(spy, (texts) => texts.some((text) => text.includes("INSERT INTO test_things")));
      expect(trips).toEqual([
        [
          "BEGIN",
          expect.stringMatching(/^SELECT pg_advisory_xact_lock\(/),
          expect.stringContaining("SELECT id, value, label FROM test_things"),
          expect.stringContaining("INSERT INTO test_things"),
          expect.stringContaining("SELECT id, value, label FROM test_things"),
        ],
        [expect.stringContaining("INSERT INTO entity_changes"), "SELECT $1::int -- before commit", "COMMIT"],
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("rolls back the write and its change when beforeCommit's statement fails", async () => {
    const ids = ["before-commit-fails-1", "before-commit-fails-2"];
    await thingsA.mutateMany({ ids, actor: SYSTEM_ACTOR, apply: (tx, sorted) => setMany(sorted, 1)(tx) });
    const failing = thingsA.mutateMany({
      ids,
      actor: SYSTEM_ACTOR,
      repeatableApply: true,
      apply: (tx, sorted) => setMany(sorted, 2)(tx),
      beforeCommit: (tx) => tx.query("SELECT 1 / 0 -- before commit"),
    });
    await expect(failing).rejects.toThrow("division by zero");
    expect(await countRows("entity_changes", ids[0]!)).toBe(1);
    const { rows } = await a.pool.query<{ value: number }>("SELECT value FROM test_things WHERE id = ANY($1) ORDER BY id", [ids]);
    expect(rows.map((row) => row.value)).toEqual([1, 1]);
  });

  it("with a repeatable apply, rolls back and records in turns a batch whose read of prev takes two round trips, apply running again", async () => {
    const twoTrips = defineTwoTripThings("two-trip-many-thing");
    const ids = ["two-trip-many-1", "two-trip-many-2"];
    await a.pool.query("INSERT INTO test_things (id, value, label) SELECT unnest($1::text[]), 1, 'x'", [ids]);
    let applied = 0;
    const bump = (tx: SqlClient, sorted: readonly string[]) => {
      applied++;
      return tx.query("UPDATE test_things SET value = value + 1 WHERE id = ANY($1::text[])", [sorted]);
    };
    for (const expected of [2, 3]) {
      const results = await twoTrips.mutateMany({ ids, actor: SYSTEM_ACTOR, repeatableApply: true, apply: bump });
      expect(results.map((result) => result.change)).toMatchObject(ids.map(() => ({ prev: { value: expected - 1 }, next: { value: expected } })));
    }
    // Each batch's two-trip attempt was rolled back (its increment with it) and ran again in turns.
    expect(applied).toBe(4);
    expect(await thingsA.getMany(ids)).toEqual(new Map(ids.map((id) => [id, { value: 3, label: "x" }])));
    expect(await countRows("entity_changes", ids[0]!)).toBe(2);
  });

  it("serializes with single mutations and other batches on shared entities, without deadlock", async () => {
    const ids = ["chain-1", "chain-2", "chain-3"];
    await thingsA.mutateMany({ ids, actor: SYSTEM_ACTOR, apply: (tx, sorted) => setMany(sorted, 0)(tx) });
    const bump = (set: readonly string[]) => (tx: SqlClient) => tx.query("UPDATE test_things SET value = value + 1 WHERE id = ANY($1::text[])", [set]);
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? thingsA : thingsB).mutateMany({ ids: i % 2 ? ids : [...ids].reverse(), actor: SYSTEM_ACTOR, apply: (tx, sorted) => bump(sorted)(tx) }),
      ),
      ...Array.from({ length: 6 }, (_, i) => thingsA.mutate({ id: ids[i % 3]!, actor: SYSTEM_ACTOR, apply: bump([ids[i % 3]!]) })),
    ]);
    for (const id of ids) {
      const history = (await thingsA.history(id)).reverse();
      expect(history.at(-1)!.next).toEqual({ value: 8, label: "x" });
      history.slice(1).forEach((change, i) => expect(change.prev).toEqual(history[i]!.next));
    }
  });
});

describe("history helpers", () => {
  it("inStateSince gives when a field last changed, ignoring changes to other fields", async () => {
    await thingsA.mutate({ id: "since-1", actor: SYSTEM_ACTOR, apply: upsertThing("since-1", 1, "a") });
    const { change } = await thingsA.mutate({ id: "since-1", actor: SYSTEM_ACTOR, apply: upsertThing("since-1", 1, "b") });
    await thingsA.mutate({ id: "since-1", actor: SYSTEM_ACTOR, apply: upsertThing("since-1", 2, "b") });
    expect((await thingsA.inStateSince("since-1", "label"))?.toISOString()).toBe(change!.occurredAt);
    expect(await thingsA.inStateSince("since-1", "nonexistent")).toBeNull();
  });

  it("history lists newest first and honours limit and since", async () => {
    for (let value = 1; value <= 3; value++) await thingsA.mutate({ id: "hist-1", actor: SYSTEM_ACTOR, apply: upsertThing("hist-1", value) });
    const all = await thingsA.history("hist-1");
    expect(all.map((c) => c.next?.value)).toEqual([3, 2, 1]);
    expect((await thingsA.history("hist-1", { limit: 1 })).map((c) => c.next?.value)).toEqual([3]);
    expect(await thingsA.history("hist-1", { since: new Date(Date.parse(all[0]!.occurredAt) + 1) })).toEqual([]);
  });

  it("getMany returns states by id and omits unknown ids", async () => {
    await thingsA.mutate({ id: "many-1", actor: SYSTEM_ACTOR, apply: upsertThing("many-1", 1) });
    const states = await thingsB.getMany(["many-1", "missing"]);
    expect([...states.keys()]).toEqual(["many-1"]);
  });
});
