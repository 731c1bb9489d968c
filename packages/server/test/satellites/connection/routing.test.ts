// Satellite lifecycle edges go through the router once each, with payloads their triggers accept.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoutedChange } from "../../../src/entities/index.ts";
import { SatelliteService, satelliteTriggers } from "../../../src/satellites/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";

let core: TestInstance;
let service: SatelliteService;
let clock = Date.parse("2026-11-27T12:00:00.000Z");
const routed: RoutedChange[] = [];
const arrived = createSignal();

beforeAll(async () => {
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "satellite-routing");
  service = new SatelliteService({ pool: core.pool, entities: core.entities, now: () => clock });
  core.router.addSink({
    name: "collect",
    deliver: async (batch) => {
      routed.push(...batch);
      arrived.emit();
    },
  });
  core.router.start();
});

afterAll(async () => {
  await core?.stop();
});

const routedFor = (id: string) => routed.filter((r) => r.change.id === id);

describe("satellite lifecycle through the router", () => {
  it("routes connected, heartbeat_lost and disconnected edges once each, with payloads their triggers accept", async () => {
    const id = await service.create({ name: "edge-1", region: "eu-west", tokenHash: "unused" });
    const session = randomUUID();
    await service.markConnected({ satelliteId: id, sessionId: session });
    clock += 60_000; // past the default 45 s threshold
    await service.markHeartbeatLost({ satelliteId: id });
    await service.markHeartbeatLost({ satelliteId: id }); // a second monitor pass changes nothing
    await service.markDisconnected({ satelliteId: id, sessionId: randomUUID() }); // a stale close changes nothing
    await service.markDisconnected({ satelliteId: id, sessionId: session });

    await waitFor(() => routedFor(id).length >= 3, arrived.subscribe, 10_000, "three routed satellite changes");
    const mine = routedFor(id);
    expect(mine.map((r) => r.eventIds)).toEqual([["satellite.connected"], ["satellite.heartbeat_lost"], ["satellite.disconnected"]]);
    for (const { eventIds, payload } of mine) {
      const trigger = satelliteTriggers.find((t) => t.id === eventIds[0])!;
      expect(trigger.payloadSchema.parse(payload)).toMatchObject({ satelliteId: id, name: "edge-1", region: "eu-west" });
      expect(trigger.contextKey(trigger.payloadSchema.parse(payload))).toBe(id);
    }
    expect(mine[1]!.payload).toMatchObject({ status: "offline", lastSeenAt: "2026-11-27T12:00:00.000Z" });
  });
});
