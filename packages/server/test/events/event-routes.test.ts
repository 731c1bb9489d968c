// GET /api/v1/events over real HTTP on one core while another core commits: live changes with
// their seq as id, catch-up from Last-Event-ID without gaps or doubles (also across the seam
// with changes committed during the catch-up), the kind filter, resets, heartbeats, and the
// slow client cut off.
import { connect as connectTcp } from "node:net";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import type { Counter } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventsModule, startEvents } from "../../src/events/index.ts";
import { type HttpServer, startHttpServer } from "../../src/http/http-server.ts";
import { createModulesApp, TEST_ADMIN_TOKEN } from "../support/api/api-app.ts";
import { createTestDatabase } from "../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../support/instance.ts";
import { testModuleDeps, type TestModuleDeps } from "../support/module-deps.ts";
import { changesOf, openSse, type SseConnection } from "../support/sse-client.ts";
import { CREATE_THINGS, defineThings, upsertThing } from "../support/entities/things.ts";

let writer: TestInstance;
let reader: TestInstance;
let readerDeps: TestModuleDeps;
let events: EventsModule;
let http: HttpServer;
let eventsUrl: string;
const published = createSignal();
let writerThings: ReturnType<typeof defineThings>;
let writerGadgets: ReturnType<typeof defineThings>;
const open: SseConnection[] = [];

/** Frames one client may have waiting before it is cut off, in this file. */
const MAX_QUEUED = 100;

beforeAll(async () => {
  const db = await createTestDatabase();
  writer = await startTestInstance(db.url, "events-writer");
  reader = await startTestInstance(db.url, "events-reader");
  await writer.pool.query(CREATE_THINGS);
  writerThings = defineThings(writer.entities, writer.pool);
  writerGadgets = defineThings(writer.entities, writer.pool, "gadget");
  // The reading core defines the same kinds, as every core of a cluster does.
  defineThings(reader.entities, reader.pool);
  defineThings(reader.entities, reader.pool, "gadget");
  readerDeps = testModuleDeps(reader);
  // Small pages so a catch-up of a few hundred changes takes many reads (and meets live ones).
  events = await startEvents(readerDeps.deps, {
    heartbeatIntervalMs: 50,
    pageSize: 20,
    maxQueuedFrames: MAX_QUEUED,
    observer: { onPublish: () => published.emit() },
  });
  http = await startHttpServer(await createModulesApp(reader.pool, [events]), { host: "127.0.0.1", port: 0 });
  await events.serve();
  eventsUrl = `${http.url}/api/v1/events`;
});

afterAll(async () => {
  await Promise.all(open.map((connection) => connection.close()));
  await readerDeps?.stop();
  await http?.close();
  await Promise.all([writer?.stop(), reader?.stop()]);
});

async function connect(url = eventsUrl, options: { lastEventId?: string; token?: string | null } = {}): Promise<SseConnection> {
  const connection = await openSse(url, options);
  open.push(connection);
  return connection;
}

const hasEvent = (name: string) => (connection: SseConnection) => connection.events.some((event) => event.event === name);

/** Commits `count` changes one after another (so their seqs are also their commit order); returns the seqs. */
async function commitSequentially(count: number, prefix: string): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i % 7}`;
    const { change } = await writerThings.mutate({ id, actor: SYSTEM_ACTOR, apply: upsertThing(id, i) });
    seqs.push(change!.seq!);
  }
  return seqs;
}

describe("GET /api/v1/events", () => {
  it("streams a change committed through another core, its seq as the event id, after a ready event naming the position", async () => {
    const client = await connect();
    await client.until(hasEvent("ready"), "ready");
    const ready = client.events.find((event) => event.event === "ready")!;
    expect(Number(ready.id)).toBe(JSON.parse(ready.data).seq);
    const { change } = await writerThings.mutate({ id: "live-1", actor: SYSTEM_ACTOR, apply: upsertThing("live-1", 1, "hello") });
    await client.until((c) => changesOf(c).some((received) => received.changeId === change!.changeId), "the change");
    const event = client.events.find((e) => e.event === "change")!;
    expect(event.id).toBe(String(change!.seq));
    expect(JSON.parse(event.data)).toEqual(change);
    await client.close();
  });

  it("streams to an HTTP/1.0 client without chunk framing, the body ending with the connection", async () => {
    const { hostname, port } = new URL(eventsUrl);
    const socket = connectTcp({ host: hostname, port: Number(port) });
    let received = "";
    const arrived = createSignal();
    socket.on("data", (bytes: Buffer) => {
      received += bytes.toString("utf8");
      arrived.emit();
    });
    try {
      socket.write(
        `GET /api/v1/events HTTP/1.0\r\nhost: ${hostname}:${port}\r\nauthorization: Bearer ${TEST_ADMIN_TOKEN}\r\naccept: text/event-stream\r\n\r\n`,
      );
      await waitFor(() => received.includes("event: ready"), arrived.subscribe, 20_000, "ready");
      const { change } = await writerThings.mutate({ id: "http10-1", actor: SYSTEM_ACTOR, apply: upsertThing("http10-1", 1) });
      await waitFor(() => received.includes(`id: ${change!.seq}\nevent: change\n`), arrived.subscribe, 20_000, "the change");
      const [head, body] = received.split("\r\n\r\n", 2) as [string, string];
      expect(head).not.toMatch(/transfer-encoding/i);
      // Nothing but whole frames: every block is an event with an id or a comment.
      for (const block of body.split("\n\n").filter(Boolean)) expect(block).toMatch(/^(id: \d+\nevent: \w+\ndata: .+|: heartbeat)$/);
    } finally {
      socket.destroy();
    }
  });

  it("an SSE client disconnected while 500 changes commit through another core receives all 500, in order, none twice, after reconnecting with Last-Event-ID", async () => {
    const first = await connect();
    await first.until(hasEvent("ready"), "ready");
    const [before] = await commitSequentially(1, "gap-before");
    await first.until((c) => changesOf(c).some((change) => change.seq === before), "the change before the gap");
    const lastEventId = first.events.at(-1)!.id!;
    await first.close();

    const missed = await commitSequentially(500, "gap");

    const again = await connect(eventsUrl, { lastEventId });
    await again.until((c) => changesOf(c).length >= 500 && hasEvent("ready")(c), "the 500 missed changes");
    expect(changesOf(again).map((change) => change.seq)).toEqual(missed);
    await again.close();
  });

  it("changes committed by concurrent writers while a client catches up arrive once each, after those it missed", async () => {
    const first = await connect();
    await first.until(hasEvent("ready"), "ready");
    const lastEventId = first.events.at(-1)!.id!;
    await first.close();
    const missed = await commitSequentially(200, "seam-missed");

    const again = await connect(eventsUrl, { lastEventId });
    // Four writers at once, each on its own entities: their seqs commit out of order.
    const during = (
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          const seqs: number[] = [];
          for (let i = 0; i < 50; i++) {
            const id = `seam-live-${w}-${i % 3}`;
            seqs.push((await writerThings.mutate({ id, actor: SYSTEM_ACTOR, apply: upsertThing(id, i) })).change!.seq!);
          }
          return seqs;
        }),
      )
    ).flat();
    const expected = new Set([...missed, ...during]);
    await again.until((c) => changesOf(c).filter((change) => expected.has(change.seq)).length >= expected.size, "every change missed and committed meanwhile");

    const received = changesOf(again).map((change) => change.seq);
    expect(new Set(received).size).toBe(received.length);
    expect(received.slice(0, missed.length)).toEqual(missed);
    expect(new Set(received)).toEqual(expected);
    // Each entity's changes in their order.
    const seqsOf = new Map<string, number[]>();
    for (const change of changesOf(again)) seqsOf.set(change.id, [...(seqsOf.get(change.id) ?? []), change.seq]);
    for (const seqs of seqsOf.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await again.close();
  });

  it("filters by kind, live and catching up", async () => {
    const all = await connect();
    await all.until(hasEvent("ready"), "ready");
    const lastEventId = all.events.at(-1)!.id!;
    const gadgetsOnly = await connect(`${eventsUrl}?kind=gadget`);
    await gadgetsOnly.until(hasEvent("ready"), "ready");
    await writerThings.mutate({ id: "kind-thing", actor: SYSTEM_ACTOR, apply: upsertThing("kind-thing", 1) });
    const { change: gadget } = await writerGadgets.mutate({ id: "kind-gadget", actor: SYSTEM_ACTOR, apply: upsertThing("kind-gadget", 2) });
    await all.until((c) => changesOf(c).some((change) => change.seq === gadget!.seq), "the gadget on the unfiltered stream");
    await gadgetsOnly.until((c) => changesOf(c).some((change) => change.seq === gadget!.seq), "the gadget");
    expect(changesOf(all).map((change) => change.kind)).toEqual(["thing", "gadget"]);
    expect(changesOf(gadgetsOnly).map((change) => change.kind)).toEqual(["gadget"]);

    const caughtUp = await connect(`${eventsUrl}?kind=gadget,gadget&lastEventId=${lastEventId}`);
    await caughtUp.until(hasEvent("ready"), "ready");
    expect(changesOf(caughtUp).map((change) => change.seq)).toEqual([gadget!.seq]);
    await Promise.all([all.close(), gadgetsOnly.close(), caughtUp.close()]);
  });

  it("refuses an unknown kind with 400 naming the known ones", async () => {
    const refused = await connect(`${eventsUrl}?kind=gadget,gizmo`);
    expect(refused.status).toBe(400);
    const body = JSON.parse(refused.body);
    expect(body.error.code).toBe("invalid_query");
    expect(body.error.message).toContain('"gizmo"');
    expect(body.error.message).toContain("known kinds: thing, gadget");
  });

  it("refuses a malformed Last-Event-ID and a missing token", async () => {
    const malformed = await connect(eventsUrl, { lastEventId: "abc" });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).error.code).toBe("invalid_input");
    const anonymous = await connect(eventsUrl, { token: null });
    expect(anonymous.status).toBe(401);
  });

  it("tells a client whose Last-Event-ID the outbox no longer holds to reload, then streams on from the head", async () => {
    const { change } = await writerThings.mutate({ id: "pruned", actor: SYSTEM_ACTOR, apply: upsertThing("pruned", 1) });
    // What a pruner of old outbox rows would do.
    await writer.pool.query("DELETE FROM entity_changes WHERE seq <= $1", [change!.seq]);
    const client = await connect(eventsUrl, { lastEventId: String(change!.seq) });
    await client.until(hasEvent("ready"), "ready");
    expect(client.events[0]!.event).toBe("reset");
    expect(JSON.parse(client.events[0]!.data)).toMatchObject({ reason: "position_not_retained", lastEventId: change!.seq });
    const { change: next } = await writerThings.mutate({ id: "pruned", actor: SYSTEM_ACTOR, apply: upsertThing("pruned", 2) });
    await client.until((c) => changesOf(c).some((received) => received.seq === next!.seq), "the next change");
    await client.close();
  });

  it("sends comment heartbeats", async () => {
    const client = await connect();
    await client.until((c) => c.comments >= 2, "two heartbeats");
    await client.close();
  });

  it("cuts off a client that does not read instead of buffering for it", async () => {
    const closed = () => (readerDeps.deps.metrics.getSingleMetric("vantage_event_stream_closed_total") as Counter).get();
    const cutCount = async () => (await closed()).values.find((value) => value.labels.reason === "slow_client")?.value ?? 0;
    const client = await connect();
    await client.until(hasEvent("ready"), "ready");
    // It stops reading: the socket's buffers fill, then its queue.
    client.pause();
    const big = "x".repeat(32 * 1024);
    const ids = Array.from({ length: 100 }, (_, i) => `big-${i}`);
    let committed = 0;
    for (let round = 0; round < 40 && (await cutCount()) === 0; round++) {
      const publishedNow = nextPublish();
      await writerThings.mutateMany({ ids, actor: SYSTEM_ACTOR, apply: (tx) => tx.query(UPSERT_MANY, [ids, round, `${big}${round}`]) });
      committed += ids.length;
      await publishedNow;
    }
    expect(await cutCount()).toBe(1);
    // Reading again, it finds the end of a connection the server dropped, and far fewer changes than were committed.
    client.resume();
    await client.until((c) => c.ended, "the connection's end");
    expect(changesOf(client).length).toBeLessThan(committed);
  });
});

describe("a catch-up that live changes overflow", () => {
  it("reads the dropped changes from the outbox again: each change once", async () => {
    // Five live changes held at most during a catch-up of pages of five: writers overflow it.
    const own = testModuleDeps(reader);
    const ownEvents = await startEvents(own.deps, { pageSize: 5, maxPendingWhileCatchingUp: 5, heartbeatIntervalMs: 60_000 });
    const ownHttp = await startHttpServer(await createModulesApp(reader.pool, [ownEvents]), { host: "127.0.0.1", port: 0 });
    try {
      await ownEvents.serve();
      const first = await connect(`${ownHttp.url}/api/v1/events`);
      await first.until(hasEvent("ready"), "ready");
      const lastEventId = first.events.at(-1)!.id!;
      await first.close();
      const missed = await commitSequentially(100, "overflow-missed");
      const again = await connect(`${ownHttp.url}/api/v1/events`, { lastEventId });
      const during = (await Promise.all([0, 1, 2].map((w) => commitSequentially(40, `overflow-live-${w}`)))).flat();
      const expected = new Set([...missed, ...during]);
      await again.until((c) => changesOf(c).filter((change) => expected.has(change.seq)).length >= expected.size, "every change");
      const received = changesOf(again).map((change) => change.seq);
      expect(received.length).toBe(new Set(received).size);
      expect(new Set(received)).toEqual(expected);
      expect(received.slice(0, missed.length)).toEqual(missed);
      await again.close();
    } finally {
      await own.stop();
      await ownHttp.close();
    }
  });
});

describe("a client that wants only what follows", () => {
  it("starts at the outbox head as it asks, not where the follower is: a change committed before is not sent, and ready names it", async () => {
    // A tick of a minute: after its first batch the follower reads again only when stopped.
    const published = new Set<number>();
    const progressed = createSignal();
    const own = testModuleDeps(reader);
    const ownEvents = await startEvents(own.deps, {
      flushIntervalMs: 60_000,
      heartbeatIntervalMs: 60_000,
      observer: {
        onPublish: (items) => {
          for (const item of items) published.add(item.position.seq);
          progressed.emit();
        },
      },
    });
    const ownHttp = await startHttpServer(await createModulesApp(reader.pool, [ownEvents]), { host: "127.0.0.1", port: 0 });
    const url = `${ownHttp.url}/api/v1/events`;
    const readyOf = (connection: SseConnection) => Number(connection.events.find((event) => event.event === "ready")!.id);
    try {
      await ownEvents.serve();
      // The follower reads changes only while a client is attached (with none, only the head).
      const keeper = await connect(url);
      await keeper.until(hasEvent("ready"), "ready");
      const [flushed] = await commitSequentially(1, "head-flushed");
      await waitFor(() => published.has(flushed!), progressed.subscribe, 20_000, "the first change published");
      // Committed before the clients ask; the follower will not have read it.
      const [before] = await commitSequentially(1, "head-before");
      // One resuming from the published change gets it by catch-up (so it is settled: in the head from now on).
      const resumed = await connect(url, { lastEventId: String(flushed) });
      await resumed.until(hasEvent("ready"), "ready");
      expect(changesOf(resumed).map((change) => change.seq)).toEqual([before]);
      expect(readyOf(resumed)).toBe(before);

      const client = await connect(url);
      await client.until(hasEvent("ready"), "ready");
      expect(readyOf(client)).toBe(before);
      expect(published.has(before!)).toBe(false);
      // Stopping reads (and publishes) what the tick held back, then ends the streams: the change is sent to neither again.
      await own.stop();
      expect(published.has(before!)).toBe(true);
      await Promise.all([client, resumed, keeper].map((c) => c.until((open) => open.ended, "the end of the stream")));
      expect(changesOf(client)).toEqual([]);
      expect(changesOf(resumed).map((change) => change.seq)).toEqual([before]);
      expect(changesOf(keeper).map((change) => change.seq)).toEqual([flushed, before]);
    } finally {
      await own.stop();
      await ownHttp.close();
    }
  });
});

describe("a core shutting down", () => {
  it("ends its open streams, so its HTTP server can close, and refuses new ones with 503", async () => {
    const own = testModuleDeps(reader);
    const ownEvents = await startEvents(own.deps, { heartbeatIntervalMs: 60_000 });
    const ownHttp = await startHttpServer(await createModulesApp(reader.pool, [ownEvents]), { host: "127.0.0.1", port: 0 });
    try {
      await ownEvents.serve();
      const client = await connect(`${ownHttp.url}/api/v1/events`);
      await client.until(hasEvent("ready"), "ready");
      await own.stop();
      await client.until((c) => c.ended, "the end of the stream");
      const refused = await connect(`${ownHttp.url}/api/v1/events`);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body).error.code).toBe("shutting_down");
    } finally {
      await own.stop();
      await ownHttp.close();
    }
  });
});

const UPSERT_MANY = `INSERT INTO test_things (id, value, label) SELECT id, $2, $3 FROM unnest($1::text[]) AS id
  ON CONFLICT (id) DO UPDATE SET value = excluded.value, label = excluded.label`;

/** Resolves at the change stream's next published batch. */
function nextPublish(): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = published.subscribe(() => {
      unsubscribe();
      resolve();
    });
  });
}
