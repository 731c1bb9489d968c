// The live feed publishes a change committed through one instance to another, even one too large for a NOTIFY payload.
import { SYSTEM_ACTOR, type EntityChanged } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLiveFeed, type LiveFeed } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";
import { CREATE_THINGS, defineThings, upsertThing } from "../../support/entities/things.ts";

let a: TestInstance;
let b: TestInstance;
let feedB: LiveFeed;
const received: EntityChanged[] = [];
const arrived = createSignal();

beforeAll(async () => {
  const db = await createTestDatabase();
  a = await startTestInstance(db.url, "feed-a");
  b = await startTestInstance(db.url, "feed-b");
  await a.pool.query(CREATE_THINGS);
  feedB = createLiveFeed({ pool: b.pool, hub: b.hub, logger: silentLogger() });
  feedB.subscribe((change) => {
    received.push(change);
    arrived.emit();
  });
  await feedB.start();
});

afterAll(async () => {
  await feedB?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("the live feed", () => {
  it("publishes a change committed through one instance to another", async () => {
    const things = defineThings(a.entities, a.pool);
    const { change } = await things.mutate({ id: "live-1", actor: SYSTEM_ACTOR, apply: upsertThing("live-1", 1, "hello") });
    await waitFor(() => received.some((c) => c.changeId === change!.changeId), arrived.subscribe, 5000, "the change on B");
    expect(received.find((c) => c.changeId === change!.changeId)).toEqual(change);
  });

  it("reads a change too large for a NOTIFY payload from the outbox", async () => {
    const things = defineThings(a.entities, a.pool, "big-thing");
    const label = "x".repeat(20_000);
    const { change } = await things.mutate({ id: "live-big", actor: SYSTEM_ACTOR, apply: upsertThing("live-big", 1, label) });
    await waitFor(() => received.some((c) => c.changeId === change!.changeId), arrived.subscribe, 5000, "the large change on B");
    expect(received.find((c) => c.changeId === change!.changeId)?.next).toEqual({ value: 1, label });
  });
});
