// The entity router delivers every committed change once, in order per entity, across late commits, rollbacks, refusing sinks and leader death.
import { SYSTEM_ACTOR } from "@vantage/protocol";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChangeSink, ENTITY_CHANGES_CHANNEL, type RoutedChange, type SqlClient } from "../../../src/entities/index.ts";
import { StatementBatch } from "../../../src/entities/statement-batch.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createSignal, killConnections, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";
import { CREATE_THINGS, defineThings, upsertThing } from "../../support/entities/things.ts";

let db: TestDatabase;
const instances: TestInstance[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
  const setup = new pg.Client({ connectionString: db.url });
  await setup.connect();
  await setup.query(CREATE_THINGS);
  // What sinks accepted, written in the router's transaction: a row exists iff the cursor moved past it.
  await setup.query(
    "CREATE TABLE routed (ord bigserial, change_id uuid PRIMARY KEY, seq bigint NOT NULL, entity_id text NOT NULL, event_ids text[] NOT NULL, payload jsonb, routed_by text NOT NULL)",
  );
  await setup.end();
});

afterEach(async () => {
  await Promise.all(instances.splice(0).map((instance) => instance.stop()));
});

async function instance(name: string, options: Parameters<typeof startTestInstance>[2] = {}) {
  const started = await startTestInstance(db.url, name, options);
  instances.push(started);
  started.entities.registerChangeDeriver({
    kind: "thing",
    derive: (change) => [`thing.${String(change.next?.label ?? "removed")}`],
    toPayload: (change) => ({ thingId: change.id }),
  });
  return { ...started, things: defineThings(started.entities, started.pool) };
}

/** An observer counting the changes of the batches the router accepted, signalling each batch. */
/** Waits until `router` holds the routing lock (it polls for it; nothing announces it). */
function untilLeading(router: { isLeader(): boolean }, name: string): Promise<void> {
  return waitFor(
    () => router.isLeader(),
    (wake) => {
      const t = setInterval(wake, 10);
      return () => clearInterval(t);
    },
    5000,
    `${name} to lead`,
  );
}

function batchCounter() {
  const counted = {
    seen: 0,
    batches: createSignal(),
    observer: {
      onBatch: (batch: readonly RoutedChange[]) => {
        counted.seen += batch.length;
        counted.batches.emit();
      },
    },
  };
  return counted;
}

/** A sink that records every batch it accepts into `routed`, inside the router's transaction. */
function recordingSink(name: string, hooks: { before?: (batch: readonly RoutedChange[], tx: SqlClient) => Promise<void> } = {}) {
  const delivered = createSignal();
  const sink: ChangeSink = {
    name,
    async deliver(batch, tx) {
      await hooks.before?.(batch, tx);
      for (const { change, eventIds, payload } of batch) {
        await tx.query("INSERT INTO routed (change_id, seq, entity_id, event_ids, payload, routed_by) VALUES ($1, $2, $3, $4, $5, $6)", [
          change.changeId,
          change.seq,
          change.id,
          eventIds,
          JSON.stringify(payload),
          name,
        ]);
      }
    },
  };
  return { sink, delivered };
}

/** Records a batch into `routed` in one statement (so a sink can let COMMIT follow it at once); a null `routedBy` breaks a constraint. */
function insertRouted(tx: SqlClient, batch: readonly RoutedChange[], routedBy: string | null) {
  return tx.query(
    `INSERT INTO routed (change_id, seq, entity_id, event_ids, routed_by)
     SELECT change_id, seq, entity_id, '{}', $4 FROM unnest($1::uuid[], $2::bigint[], $3::text[]) WITH ORDINALITY AS c (change_id, seq, entity_id, n) ORDER BY n`,
    [batch.map((r) => r.change.changeId), batch.map((r) => r.change.seq), batch.map((r) => r.change.id), routedBy],
  );
}

/**
 * The statements each client of `pool` is asked to run, recorded from its first acquire (so
 * install before the router starts); `router()` those of the router's connection, the one
 * that reads and writes the cursor.
 */
function sentStatements(pool: pg.Pool) {
  const sentBy = new Map<object, string[]>();
  pool.on("acquire", (client) => {
    if (sentBy.has(client)) return;
    const sent: string[] = [];
    sentBy.set(client, sent);
    const query = client.query;
    client.query = function (this: pg.PoolClient, ...args: unknown[]) {
      if (typeof args[0] === "string") sent.push(args[0]);
      // The statements of one tick travel as one batch (statement-batch.ts).
      else if (args[0] instanceof StatementBatch) sent.push(...args[0].statements.map((statement) => statement.text));
      return (query as (...all: unknown[]) => unknown).apply(this, args);
    } as typeof client.query;
  });
  // The router alone makes sure its cursor row exists, when it starts to lead.
  return { router: () => [...sentBy.values()].filter((sent) => sent.some((text) => text.startsWith("INSERT INTO entity_consumer_cursors"))).flat() };
}

/** The router's durable cursor: the last seq it persisted (0: none). */
async function persistedSeq(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ seq: number }>("SELECT last_seq::int AS seq FROM entity_consumer_cursors WHERE consumer = 'router'");
  return rows[0]?.seq ?? 0;
}

async function routed(): Promise<Array<{ seq: number; entity_id: string; event_ids: string[]; payload: unknown; routed_by: string }>> {
  // In delivery order: `ord` counts the sink's inserts.
  const { rows } = await instances[0]!.pool.query("SELECT seq::int, entity_id, event_ids, payload, routed_by FROM routed ORDER BY ord");
  return rows;
}

async function committedSeqs(): Promise<number[]> {
  const { rows } = await instances[0]!.pool.query<{ seq: number }>("SELECT seq::int FROM entity_changes ORDER BY seq");
  return rows.map((row) => row.seq);
}

describe("the entity router", () => {
  it("delivers every committed change once, in order, with its event ids and payload", async () => {
    const counted = batchCounter();
    const a = await instance("router-order", { observer: counted.observer });
    a.router.addSink(recordingSink("sink").sink);
    a.router.start();
    for (let i = 0; i < 30; i++) await a.things.mutate({ id: `t${i % 3}`, actor: SYSTEM_ACTOR, apply: upsertThing(`t${i % 3}`, i, `v${i % 2}`) });
    await waitFor(() => counted.seen === 30, counted.batches.subscribe, 10_000, "30 routed changes");
    const rows = await routed();
    expect(rows.map((row) => row.seq)).toEqual(await committedSeqs());
    expect(rows[0]).toMatchObject({ entity_id: "t0", event_ids: ["thing.v0"], payload: { thingId: "t0" } });
  });

  it("reads a backlog in larger batches once a read comes back full, and small ones again when caught up", async () => {
    const sizes: number[] = [];
    const counted = batchCounter();
    const observer = { onBatch: (batch: readonly RoutedChange[]) => (sizes.push(batch.length), counted.observer.onBatch(batch)) };
    const a = await instance("router-backlog", { observer, batchSize: 5, backlogBatchSize: 20 });
    a.router.addSink(recordingSink("sink").sink);
    // 45 changes wait before the router starts: one read of 5, then reads of up to 20.
    for (let i = 0; i < 45; i++) await a.things.mutate({ id: `t${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`t${i}`, i) });
    a.router.start();
    await waitFor(() => counted.seen === 45, counted.batches.subscribe, 10_000, "45 routed changes");
    // Alone on the cluster the reads are 5, 20, 20. Another test file's open transaction can hold
    // any read short, the first one too (the router never reads past the cluster's oldest open
    // transaction), and the next read is small again: so each read is checked against the limit
    // the one before it allowed, and the first larger read must follow a full small one.
    sizes.forEach((size, i) => expect(size).toBeLessThanOrEqual(i > 0 && sizes[i - 1]! >= 5 ? 20 : 5));
    const firstLarger = sizes.findIndex((size) => size > 5);
    expect(firstLarger).toBeGreaterThan(0);
    expect(sizes[firstLarger - 1]).toBe(5);
    await a.things.mutate({ id: "late", actor: SYSTEM_ACTOR, apply: upsertThing("late", 1) });
    await waitFor(() => counted.seen === 46, counted.batches.subscribe, 10_000, "the late change");
    expect(sizes.at(-1)).toBe(1);
    expect((await routed()).map((row) => row.seq)).toEqual(await committedSeqs());
  });

  it("does not skip a change whose lower seq commits after a higher one", async () => {
    const idle = createSignal();
    const batches = createSignal();
    let heldBackSeen = false;
    let seen = 0;
    const a = await instance("router-late", {
      observer: {
        onIdle: (heldBack) => {
          heldBackSeen ||= heldBack;
          idle.emit();
        },
        onBatch: (batch) => {
          seen += batch.length;
          batches.emit();
        },
      },
    });
    a.router.addSink(recordingSink("sink").sink);
    a.router.start();

    // A slow writer takes a seq and stays open while a faster one commits a higher seq.
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    await slow.query("BEGIN");
    await slow.query("INSERT INTO test_things VALUES ('late', 1, 'late')");
    const { rows } = await slow.query<{ seq: string }>(
      `INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor)
       VALUES (gen_random_uuid(), 'thing', 'late', NULL, '{"value":1,"label":"late"}', '{"value":1,"label":"late"}', '{label,value}', $1) RETURNING seq`,
      [JSON.stringify(SYSTEM_ACTOR)],
    );
    const fast = await a.things.mutate({ id: "fast", actor: SYSTEM_ACTOR, apply: upsertThing("fast", 2, "fast") });
    expect(fast.change!.seq!).toBeGreaterThan(Number(rows[0]!.seq));

    // The router sees the committed higher seq but must hold it back while the older writer is open.
    await waitFor(() => heldBackSeen, idle.subscribe, 10_000, "the router to hold back the fast change");
    expect(seen).toBe(0);

    await slow.query("COMMIT");
    await slow.end();
    await waitFor(() => seen === 2, batches.subscribe, 10_000, "both changes routed");
    expect((await routed()).map((row) => row.entity_id)).toEqual(["late", "fast"]);
  });

  it("does not stall on the gap a rolled-back transaction leaves", async () => {
    const counted = batchCounter();
    const a = await instance("router-gap", { observer: counted.observer });
    a.router.addSink(recordingSink("sink").sink);
    a.router.start();
    await a.things.mutate({ id: "before", actor: SYSTEM_ACTOR, apply: upsertThing("before", 1) });
    await expect(
      a.things.mutate({
        id: "rolled-back",
        actor: SYSTEM_ACTOR,
        apply: async () => {
          throw new Error("no");
        },
      }),
    ).rejects.toThrow();
    await a.pool.query("BEGIN; SELECT nextval('entity_changes_seq_seq'); ROLLBACK");
    await a.things.mutate({ id: "after", actor: SYSTEM_ACTOR, apply: upsertThing("after", 1) });
    await waitFor(() => counted.seen === 2, counted.batches.subscribe, 10_000, "changes on both sides of the gap");
    expect((await routed()).map((row) => row.entity_id)).toEqual(["before", "after"]);
  });

  it("retries a batch a sink refused, and records each change once when it finally accepts", async () => {
    const counted = batchCounter();
    // The seqs each delivery attempt carried, in order.
    const attempts: number[][] = [];
    const a = await instance("router-retry", { observer: counted.observer });
    a.router.addSink(
      recordingSink("flaky", {
        before: async (batch) => {
          attempts.push(batch.map((routed) => routed.change.seq));
          if (attempts.length <= 2) throw new Error(`refused (attempt ${attempts.length})`);
        },
      }).sink,
    );
    for (let i = 0; i < 5; i++) await a.things.mutate({ id: `r${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`r${i}`, i) });
    a.router.start();
    await waitFor(() => counted.seen === 5, counted.batches.subscribe, 10_000, "the batch to be accepted");
    const committed = await committedSeqs();
    // Refused twice, each time delivered again from the same first change; then accepted. The
    // five usually come in one batch, but an open transaction elsewhere in the cluster (another
    // test file's: the read stays below the cluster's oldest one) may hold some back at a read,
    // so the accepted deliveries are compared together: every change once, in order.
    expect(attempts[0]![0]).toBe(committed[0]);
    expect(attempts[1]![0]).toBe(committed[0]);
    expect(attempts[2]![0]).toBe(committed[0]);
    expect(attempts.slice(2).flat()).toEqual(committed);
    expect((await routed()).map((row) => row.seq)).toEqual(committed);
  });

  it("retries a batch whose statement fails after the sink let COMMIT go out behind it", async () => {
    const counted = batchCounter();
    const attempts: number[][] = [];
    const a = await instance("router-early-commit", { observer: counted.observer });
    a.router.addSink({
      name: "early",
      async deliver(batch, tx, options) {
        attempts.push(batch.map((routed) => routed.change.seq));
        // The first attempt's insert breaks a constraint, but only once COMMIT is already on its way.
        const inserting = insertRouted(tx, batch, attempts.length === 1 ? null : "early");
        options?.issuedAll?.();
        await inserting;
      },
    });
    for (let i = 0; i < 5; i++) await a.things.mutate({ id: `e${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`e${i}`, i) });
    a.router.start();
    await waitFor(() => counted.seen === 5, counted.batches.subscribe, 10_000, "the batch to be accepted");
    // The failed attempt's changes come again, first, in the next one; the attempts after it
    // deliver each change once, in order (one batch alone on the cluster; two when another test
    // file's open transaction held the first read short).
    const [failed, ...accepted] = attempts;
    expect(accepted[0]!.slice(0, failed!.length)).toEqual(failed);
    expect(accepted.flat()).toEqual(await committedSeqs());
    expect((await routed()).map((row) => row.seq)).toEqual(await committedSeqs());
  });

  it("commits without waiting for the WAL flush only a batch whose every sink called its writes loseable", async () => {
    const counted = batchCounter();
    const a = await instance("router-loseable", { observer: counted.observer });
    // What the router's connection was asked to do around its commits.
    const sent = sentStatements(a.pool);
    const routerCommits = () => sent.router().filter((text) => text === "COMMIT" || text.startsWith("SET LOCAL"));
    a.router.addSink({
      name: "quiet-or-not",
      async deliver(batch, tx, options) {
        await insertRouted(tx, batch, "quiet-or-not");
        if (batch.every((routed) => routed.change.id.startsWith("quiet"))) options?.loseable?.();
      },
    });
    a.router.start();
    await a.things.mutate({ id: "quiet", actor: SYSTEM_ACTOR, apply: upsertThing("quiet", 1) });
    await waitFor(() => counted.seen === 1, counted.batches.subscribe, 10_000, "the loseable batch");
    expect(routerCommits()).toEqual(["SET LOCAL synchronous_commit TO off", "COMMIT"]);
    await a.things.mutate({ id: "loud", actor: SYSTEM_ACTOR, apply: upsertThing("loud", 2) });
    await waitFor(() => counted.seen === 2, counted.batches.subscribe, 10_000, "the durable batch");
    expect(routerCommits().slice(2)).toEqual(["COMMIT"]);
    expect((await routed()).map((row) => row.seq)).toEqual(await committedSeqs());
  });

  it("tells each sink how its batch's transaction ended, once it has: rolled back (refused, or at COMMIT) or committed", async () => {
    const counted = batchCounter();
    const outcomes: string[] = [];
    let attempts = 0;
    const a = await instance("router-settled", { observer: counted.observer });
    a.router.addSink({
      name: "settled",
      async deliver(batch, tx, options) {
        attempts += 1;
        const attempt = attempts;
        options?.whenSettled?.((outcome) => outcomes.push(`${attempt}:${outcome}`));
        if (attempt === 1) throw new Error("refused before COMMIT");
        // The second attempt's insert breaks a constraint once COMMIT is on its way: COMMIT answers ROLLBACK.
        const inserting = insertRouted(tx, batch, attempt === 2 ? null : "settled");
        options?.issuedAll?.();
        await inserting.catch(() => undefined);
        expect(outcomes).toHaveLength(attempt - 1); // never told inside the transaction
      },
    });
    await a.things.mutate({ id: "s0", actor: SYSTEM_ACTOR, apply: upsertThing("s0", 1) });
    a.router.start();
    await waitFor(() => counted.seen === 1, counted.batches.subscribe, 10_000, "the batch committed");
    expect(outcomes).toEqual(["1:rolled_back", "2:rolled_back", "3:committed"]);
  });

  it("keeps a batch that committed although its sink failed afterwards, and does not deliver it again", async () => {
    const counted = batchCounter();
    let deliveries = 0;
    const a = await instance("router-late-failure", { observer: counted.observer });
    a.router.addSink({
      name: "late",
      async deliver(batch, tx, options) {
        deliveries += 1;
        const recording = insertRouted(tx, batch, "late");
        options?.issuedAll?.();
        await recording;
        throw new Error("a failure after the batch's statements (and COMMIT) were sent");
      },
    });
    for (let i = 0; i < 3; i++) await a.things.mutate({ id: `l${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`l${i}`, i) });
    a.router.start();
    await waitFor(() => counted.seen === 3, counted.batches.subscribe, 10_000, "the batch committed");
    const before = deliveries;
    await a.things.mutate({ id: "l-next", actor: SYSTEM_ACTOR, apply: upsertThing("l-next", 9) });
    await waitFor(() => counted.seen === 4, counted.batches.subscribe, 10_000, "the next change routed");
    expect(deliveries).toBe(before + 1);
    expect((await routed()).map((row) => row.seq)).toEqual(await committedSeqs());
  });

  it("plans its statements once while it leads (generic plans) and gives its connection back with the default plan cache mode", async () => {
    const counted = batchCounter();
    const a = await instance("router-generic-plans", { observer: counted.observer });
    // The router's connection: the one that makes sure the cursor row exists when it starts to lead.
    let routerClient: pg.PoolClient | undefined;
    a.pool.on("acquire", (client) => {
      const query = client.query;
      client.query = function (this: pg.PoolClient, ...args: unknown[]) {
        if (typeof args[0] === "string" && args[0].startsWith("INSERT INTO entity_consumer_cursors")) routerClient = client;
        return (query as (...all: unknown[]) => unknown).apply(this, args);
      } as typeof client.query;
    });
    a.router.addSink(recordingSink("plans").sink);
    a.router.start();
    for (let i = 0; i < 8; i++) {
      await a.things.mutate({ id: `p${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`p${i}`, i) });
      await waitFor(() => counted.seen === i + 1, counted.batches.subscribe, 10_000, `change ${i} routed`);
    }
    await a.router.stop();
    // Back in the pool, idle: its prepared statements stay, and say how they were planned.
    const { rows } = await routerClient!.query<{ statement: string; generic: number; custom: number }>(
      "SELECT statement, generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements",
    );
    const read = rows.find((row) => row.statement.includes("FROM entity_changes"));
    const cursor = rows.find((row) => row.statement.includes("UPDATE entity_consumer_cursors"));
    expect(read?.generic).toBeGreaterThanOrEqual(8);
    expect(cursor?.generic).toBeGreaterThanOrEqual(8);
    expect(rows.filter((row) => row.custom > 0)).toEqual([]);
    expect((await routerClient!.query<{ plan_cache_mode: string }>("SHOW plan_cache_mode")).rows).toEqual([{ plan_cache_mode: "auto" }]);
  });

  it("only one instance routes; when it dies mid-batch another takes over and nothing is lost or doubled", async () => {
    const entered = createSignal();
    let aEntered = false;
    const batchesB = createSignal();
    let seenB = 0;
    let releaseA!: () => void;
    const aReleased = new Promise<void>((resolve) => (releaseA = resolve));
    const a = await instance("router-dies-a");
    const blockA = recordingSink("a", {
      before: async () => {
        aEntered = true;
        entered.emit();
        await aReleased; // stuck mid-batch while its process "dies"
      },
    });
    a.router.addSink(blockA.sink);
    a.router.start();
    await untilLeading(a.router, "A");

    const b = await instance("router-dies-b", {
      observer: {
        onBatch: (batch) => {
          seenB += batch.length;
          batchesB.emit();
        },
      },
    });
    b.router.addSink(recordingSink("b").sink);
    b.router.start();

    for (let i = 0; i < 10; i++) await a.things.mutate({ id: `d${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`d${i}`, i) });
    await waitFor(() => aEntered, entered.subscribe, 10_000, "A to start a batch");
    expect(b.router.isLeader()).toBe(false);

    await killConnections(db.url, "router-dies-a");
    await waitFor(() => seenB === 10, batchesB.subscribe, 10_000, "B to route all 10 changes");
    const rows = await routed();
    expect(rows.map((row) => row.seq)).toEqual(await committedSeqs());
    expect(new Set(rows.map((row) => row.routed_by))).toEqual(new Set(["b"]));

    // A's stuck sink finally returns: its transaction died with its connection, so nothing doubles.
    releaseA();
    await a.router.stop();
    expect(await routed()).toEqual(rows);
  });

  it("a standby is not woken by the leader's change NOTIFYs: it tries the lock only on its takeover interval", async () => {
    const counted = batchCounter();
    const a = await instance("router-quiet-a", { observer: counted.observer });
    a.router.addSink(recordingSink("a").sink);
    a.router.start();
    await untilLeading(a.router, "A");
    // B's router on a pool of its own whose clients count B's attempts to take the lock.
    const standbyPool = new pg.Pool({ connectionString: db.url, application_name: "router-quiet-b-router", max: 2 });
    let attempts = 0;
    const attempted = createSignal();
    standbyPool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        if (typeof args[0] === "string" && args[0].includes("pg_try_advisory_lock")) {
          attempts++;
          attempted.emit();
        }
        return query(...args);
      };
    });
    const b = await instance("router-quiet-b", { pool: standbyPool, takeoverIntervalMs: 60_000 });
    b.router.addSink(recordingSink("b").sink);
    const notified = createSignal();
    let notifications = 0;
    const unsubscribe = await b.hub.subscribe(ENTITY_CHANGES_CHANNEL, () => (notifications++, notified.emit()));
    try {
      b.router.start();
      await waitFor(() => attempts === 1, attempted.subscribe, 5000, "B's first attempt");
      for (let i = 0; i < 10; i++) await a.things.mutate({ id: `q${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`q${i}`, i) });
      await waitFor(() => counted.seen === 10, counted.batches.subscribe, 10_000, "A to route all 10 changes");
      await waitFor(() => notifications > 0, notified.subscribe, 10_000, "B to hear of the changes");
      // A woken standby would have sent its attempt by the next turn of the event loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(attempts).toBe(1);
      expect(b.router.isLeader()).toBe(false);
    } finally {
      await unsubscribe();
      await b.router.stop();
      await standbyPool.end();
    }
  });

  it("routes the changes of concurrent writers exactly once, each entity in its own order", async () => {
    const counted = batchCounter();
    const a = await instance("router-concurrent", { observer: counted.observer });
    const b = await instance("router-concurrent-b");
    a.router.addSink(recordingSink("sink").sink);
    a.router.start();
    const writers = Array.from({ length: 4 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 25; i++) {
          const writer = (w + i) % 2 ? a : b;
          await writer.things.mutate({ id: `c${i % 5}`, actor: SYSTEM_ACTOR, apply: upsertThing(`c${i % 5}`, w * 100 + i) });
        }
      })(),
    );
    await Promise.all(writers);
    const total = (await committedSeqs()).length;
    await waitFor(() => counted.seen === total, counted.batches.subscribe, 10_000, `${total} routed changes`);
    const rows = await routed();
    expect(rows.map((row) => row.seq).sort((x, y) => x - y)).toEqual(await committedSeqs());
    for (let entity = 0; entity < 5; entity++) {
      const seqs = rows.filter((row) => row.entity_id === `c${entity}`).map((row) => row.seq);
      expect(seqs).toHaveLength(20);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
  });
});

describe("the entity router, for a batch that no sink writes for", () => {
  /** A sink that writes only the changes of `loud*` entities, and says before the transaction whether a batch has any. */
  function loudOnlySink() {
    const prepared: number[] = [];
    const preparing = createSignal();
    const sink: ChangeSink = {
      name: "loud-only",
      deliver: async (batch, tx) => void (await insertRouted(tx, batch, "loud-only")),
      prepare: async (batch) => {
        prepared.push(...batch.map((routed) => routed.change.seq));
        preparing.emit();
        const loud = batch.filter((routed) => routed.change.id.startsWith("loud"));
        return loud.length === 0 ? null : async (tx) => void (await insertRouted(tx, loud, "loud-only"));
      },
    };
    return { sink, prepared, preparing };
  }
  const transactionStatements = (sent: readonly string[]) => sent.filter((text) => text === "BEGIN" || text === "COMMIT");

  it("opens no transaction for it, and persists the cursor moved in memory with the next batch that writes", async () => {
    const counted = batchCounter();
    const a = await instance("router-quiet-batches", { observer: counted.observer, cursorPersistMs: 60_000 });
    const sent = sentStatements(a.pool);
    a.router.addSink(loudOnlySink().sink);
    a.router.start();
    for (let i = 0; i < 3; i++) {
      await a.things.mutate({ id: `quiet${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`quiet${i}`, i) });
      await waitFor(() => counted.seen === i + 1, counted.batches.subscribe, 10_000, `quiet${i} routed`);
    }
    expect(transactionStatements(sent.router())).toEqual([]);
    expect(await persistedSeq(a.pool)).toBe(0);

    await a.things.mutate({ id: "loud", actor: SYSTEM_ACTOR, apply: upsertThing("loud", 9) });
    await waitFor(() => counted.seen === 4, counted.batches.subscribe, 10_000, "loud routed");
    expect(transactionStatements(sent.router())).toEqual(["BEGIN", "COMMIT"]);
    const seqs = await committedSeqs();
    expect(await persistedSeq(a.pool)).toBe(seqs.at(-1));
    expect((await routed()).map((row) => row.seq)).toEqual(seqs.slice(-1));
  });

  it("persists a cursor moved in memory on an idle poll once cursorPersistMs has passed, still without a transaction", async () => {
    const counted = batchCounter();
    const idle = createSignal();
    let idlePolls = 0;
    const a = await instance("router-quiet-idle", { observer: { ...counted.observer, onIdle: () => (idlePolls++, idle.emit()) }, cursorPersistMs: 20 });
    const sent = sentStatements(a.pool);
    a.router.addSink(loudOnlySink().sink);
    a.router.start();
    await a.things.mutate({ id: "quiet", actor: SYSTEM_ACTOR, apply: upsertThing("quiet", 1) });
    await waitFor(() => counted.seen === 1, counted.batches.subscribe, 10_000, "quiet routed");
    await waitFor(() => sent.router().some((text) => text.startsWith("UPDATE entity_consumer_cursors")), idle.subscribe, 10_000, "the cursor persisted");
    // The idle poll that sent it has its answer before the next poll.
    const polls = idlePolls;
    await waitFor(() => idlePolls > polls, idle.subscribe, 10_000, "one more idle poll");
    expect(await persistedSeq(a.pool)).toBe((await committedSeqs()).at(-1));
    expect(transactionStatements(sent.router())).toEqual([]);
  });

  it("persists a cursor moved in memory when the router stops", async () => {
    const counted = batchCounter();
    const a = await instance("router-quiet-stop", { observer: counted.observer, cursorPersistMs: 60_000 });
    a.router.addSink(loudOnlySink().sink);
    a.router.start();
    await a.things.mutate({ id: "quiet", actor: SYSTEM_ACTOR, apply: upsertThing("quiet", 1) });
    await waitFor(() => counted.seen === 1, counted.batches.subscribe, 10_000, "quiet routed");
    expect(await persistedSeq(a.pool)).toBe(0);
    await a.router.stop();
    expect(await persistedSeq(a.pool)).toBe((await committedSeqs()).at(-1));
  });

  it("routes those batches again after its connection dies, and they decide nothing twice", async () => {
    const counted = batchCounter();
    const committedBatches: number[] = [];
    const writer = await instance("router-quiet-crash-writer");
    const a = await instance("router-quiet-crash", {
      observer: {
        onBatch: (batch, { committed }) => {
          if (committed) committedBatches.push(...batch.map((routed) => routed.change.seq));
          counted.observer.onBatch(batch);
        },
      },
      cursorPersistMs: 60_000,
    });
    const loudOnly = loudOnlySink();
    a.router.addSink(loudOnly.sink);
    a.router.start();
    await writer.things.mutate({ id: "loud0", actor: SYSTEM_ACTOR, apply: upsertThing("loud0", 0) });
    await waitFor(() => counted.seen === 1, counted.batches.subscribe, 10_000, "loud0 routed");
    for (let i = 0; i < 2; i++) await writer.things.mutate({ id: `quiet${i}`, actor: SYSTEM_ACTOR, apply: upsertThing(`quiet${i}`, i) });
    await waitFor(() => counted.seen === 3, counted.batches.subscribe, 10_000, "the quiet changes routed in memory");
    const [loud0, ...quiet] = await committedSeqs();

    // The router's process "dies": its connection, and with it the lock; it takes the lock
    // again from the durable cursor, which is still at loud0.
    await killConnections(db.url, "router-quiet-crash");
    await waitFor(
      () => quiet.every((seq) => loudOnly.prepared.filter((prepared) => prepared === seq).length === 2),
      loudOnly.preparing.subscribe,
      10_000,
      "the quiet changes routed again",
    );
    await writer.things.mutate({ id: "loud1", actor: SYSTEM_ACTOR, apply: upsertThing("loud1", 1) });
    const loud1 = (await committedSeqs()).at(-1)!;
    await waitFor(() => committedBatches.includes(loud1), counted.batches.subscribe, 10_000, "loud1 committed");
    expect(await persistedSeq(writer.pool)).toBe(loud1);
    expect((await routed()).map((row) => row.seq)).toEqual([loud0, loud1]);
    expect(loudOnly.prepared.filter((seq) => seq === loud0)).toHaveLength(1);
  });
});
