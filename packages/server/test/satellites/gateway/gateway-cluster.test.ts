// Two core instances: heartbeat_lost reported exactly once, by any instance, and a stale close never disconnects a newer connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { createSignal, waitFor } from "../../support/instance.ts";
import { collectRouted, type RoutedChanges } from "../../support/entities/routed-changes.ts";
import { type SatelliteCore, type SatelliteCoreOptions, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

// Two core instances (own pools, routers, monitors, gateways) on one database, real time:
// a 100 ms heartbeat interval, 300 ms offline thresholds, monitors sweeping every 50 ms.
const THRESHOLD_MS = 300;

let url: string;
let a: SatelliteCore;
let b: SatelliteCore;
const routed: RoutedChanges = collectRouted();
const swept = createSignal();
let sweeps = 0;
const lostBySweeps: string[] = [];

function startCore(name: string): Promise<SatelliteCore> {
  const options: SatelliteCoreOptions = {
    monitor: {
      intervalMs: 50,
      takeoverIntervalMs: 50,
      onSweep: (lost) => {
        sweeps += 1;
        lostBySweeps.push(...lost);
        swept.emit();
      },
    },
  };
  return startSatelliteCore(url, name, options).then((core) => {
    routed.watch(core.router);
    core.router.start();
    return core;
  });
}

beforeAll(async () => {
  url = (await createTestDatabase()).url;
  a = await startCore("cluster-a");
  b = await startCore("cluster-b");
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

async function sweepsMore(count: number): Promise<void> {
  const target = sweeps + count;
  await waitFor(() => sweeps >= target, swept.subscribe, 10_000, `${count} more monitor sweeps`);
}

async function countEvents(satelliteId: string, lastEvent: string): Promise<number> {
  const { rows } = await a.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes WHERE entity_id = $1 AND next ->> 'lastEvent' = $2", [
    satelliteId,
    lastEvent,
  ]);
  return rows[0]!.n;
}

describe("satellites across two core instances", () => {
  it("reports a satellite that stops heartbeating but keeps its socket as heartbeat_lost exactly once, then connected on its next heartbeat", async () => {
    const credentials = await a.createSatellite({ offlineThresholdMs: THRESHOLD_MS });
    const { satellite } = await connectFakeSatellite(a.url, credentials);
    expect([a.monitor!.isLeader(), b.monitor!.isLeader()].filter(Boolean)).toHaveLength(1);

    expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.heartbeat_lost"]);
    expect(await a.satellites.connection.get(credentials.satelliteId)).toMatchObject({ status: "offline", lastEvent: "heartbeat_lost" });
    // The active monitor keeps sweeping; the standby keeps trying the lock. Neither records it again.
    await sweepsMore(3);
    expect(await countEvents(credentials.satelliteId, "heartbeat_lost")).toBe(1);
    expect(lostBySweeps.filter((id) => id === credentials.satelliteId)).toHaveLength(1);

    satellite.heartbeat();
    expect(await routed.events(credentials.satelliteId, 3)).toEqual(["satellite.connected", "satellite.heartbeat_lost", "satellite.connected"]);
    expect(await a.satellites.connection.get(credentials.satelliteId)).toMatchObject({ status: "online", lastEvent: "connected" });
    await satellite.close();
    await routed.lastIs(credentials.satelliteId, "satellite.disconnected");
  });

  it("keeps a satellite that heartbeats online on any instance: no heartbeat_lost", async () => {
    const credentials = await a.createSatellite({ offlineThresholdMs: THRESHOLD_MS });
    const { satellite } = await connectFakeSatellite(b.url, credentials);
    const heartbeating = setInterval(() => satellite.heartbeat(), 50);
    try {
      // Longer than several thresholds, measured in sweeps of whichever monitor leads.
      const start = Date.now();
      while (Date.now() - start < 4 * THRESHOLD_MS) await sweepsMore(1);
      expect(await countEvents(credentials.satelliteId, "heartbeat_lost")).toBe(0);
      expect(await a.satellites.connection.get(credentials.satelliteId)).toMatchObject({ status: "online", lastEvent: "connected" });
    } finally {
      clearInterval(heartbeating);
    }
    await satellite.close();
  });

  it("does not let the old instance's late close disconnect a satellite that reconnected to another instance", async () => {
    const old = await startCore("cluster-old");
    const credentials = await a.createSatellite({ offlineThresholdMs: 5_000 });
    const first = await connectFakeSatellite(old.url, credentials);
    const second = await connectFakeSatellite(b.url, credentials);
    expect(second.welcome.sessionId).not.toBe(first.welcome.sessionId);

    await first.satellite.close();
    await waitFor(() => !old.gateway.isConnected(credentials.satelliteId), swept.subscribe, 5_000, "the old instance to see the close");
    await old.stop(); // resolves once every close it saw was recorded (or found stale)

    const { rows } = await a.pool.query("SELECT session_id, last_connection_event FROM satellites WHERE id = $1", [credentials.satelliteId]);
    expect(rows[0]).toEqual({ session_id: second.welcome.sessionId, last_connection_event: "connected" });
    expect(await countEvents(credentials.satelliteId, "disconnected")).toBe(0);

    // The new session's heartbeats count; the old session's would not.
    second.satellite.heartbeat();
    await waitFor(() => b.gateway.isConnected(credentials.satelliteId), swept.subscribe, 5_000, "B to hold the socket");
    expect(await b.satellites.connection.get(credentials.satelliteId)).toMatchObject({ status: "online", lastEvent: "connected" });
    await second.satellite.close();
    await routed.lastIs(credentials.satelliteId, "satellite.disconnected");
  });

  it("reports heartbeat_lost from another instance when the instance holding the socket dies without cleaning up", async () => {
    const doomed = await startCore("cluster-doomed");
    const credentials = await a.createSatellite({ offlineThresholdMs: THRESHOLD_MS });
    const { satellite } = await connectFakeSatellite(doomed.url, credentials);
    satellite.heartbeat();

    await doomed.crash();
    await satellite.closed;

    expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.heartbeat_lost"]);
    await sweepsMore(2);
    expect(routed.eventsOf(credentials.satelliteId)).toEqual(["satellite.connected", "satellite.heartbeat_lost"]);
    expect(await countEvents(credentials.satelliteId, "disconnected")).toBe(0);
    expect(a.monitor!.isLeader() || b.monitor!.isLeader()).toBe(true);
  });
});
