// Proves every route reads the ids in its path by the one uuid rule: any case names the resource
// (and reaches it in lower case), and a malformed id is answered exactly as an unknown one.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useFullApiApp } from "../support/api/full-api-app.ts";

const api = useFullApiApp("path-ids");

const { call } = api;

const unique = () => `ids-${randomUUID().slice(0, 8)}`;
// Mode parallel: the fixture's own run leaves room for the one a route starts.
const automationBody = (name = unique()) => ({
  name,
  mode: "parallel",
  triggers: [{ event: "satellite.heartbeat_lost" }],
  actions: [{ delay: { duration: "1h" } }],
});

/** Fresh resources for one route: a satellite, a channel, an automation with one run. */
async function fixtures() {
  const satellite = (await call<{ id: string }>("POST", "/satellites", { name: unique(), region: "eu" })).body.id;
  const channel = (
    await call<{ id: string }>("POST", "/notification-channels", { name: unique(), type: "webhook", config: { url: "http://127.0.0.1:9/hook" } })
  ).body.id;
  const automation = (await call<{ id: string }>("POST", "/automations", automationBody())).body.id;
  const run = (await call<{ run: { id: string } }>("POST", `/automations/${automation}/run`)).body.run.id;
  return { satellite, channel, automation, run };
}
type Ids = Awaited<ReturnType<typeof fixtures>>;

interface IdRoute {
  method: string;
  path: (ids: Ids) => string;
  body?: unknown;
  /** The resource whose id is in question (of a run's routes, the run's). */
  names: keyof Ids;
}

/** The code of each resource's 404, for an id that names none. */
const NOT_FOUND: Record<keyof Ids, string> = {
  satellite: "satellite_not_found",
  channel: "notification_channel_not_found",
  automation: "automation_not_found",
  run: "run_not_found",
};

// Every route with an id in its path.
const ROUTES: IdRoute[] = [
  { method: "GET", path: (ids) => `/satellites/${ids.satellite}`, names: "satellite" },
  { method: "PATCH", path: (ids) => `/satellites/${ids.satellite}`, body: { region: "us" }, names: "satellite" },
  { method: "POST", path: (ids) => `/satellites/${ids.satellite}/rotate-token`, names: "satellite" },
  { method: "DELETE", path: (ids) => `/satellites/${ids.satellite}`, names: "satellite" },
  { method: "GET", path: (ids) => `/notification-channels/${ids.channel}`, names: "channel" },
  { method: "PATCH", path: (ids) => `/notification-channels/${ids.channel}`, body: { config: { secret: "signing-secret" } }, names: "channel" },
  { method: "POST", path: (ids) => `/notification-channels/${ids.channel}/test`, names: "channel" },
  { method: "DELETE", path: (ids) => `/notification-channels/${ids.channel}`, names: "channel" },
  { method: "GET", path: (ids) => `/automations/${ids.automation}`, names: "automation" },
  { method: "PUT", path: (ids) => `/automations/${ids.automation}`, body: automationBody(), names: "automation" },
  { method: "POST", path: (ids) => `/automations/${ids.automation}/enable`, names: "automation" },
  { method: "POST", path: (ids) => `/automations/${ids.automation}/disable`, names: "automation" },
  { method: "GET", path: (ids) => `/automations/${ids.automation}/runs`, names: "automation" },
  { method: "GET", path: (ids) => `/automations/${ids.automation}/skips`, names: "automation" },
  { method: "POST", path: (ids) => `/automations/${ids.automation}/run`, names: "automation" },
  { method: "DELETE", path: (ids) => `/automations/${ids.automation}`, names: "automation" },
  { method: "GET", path: (ids) => `/automations/${ids.automation}/runs/${ids.run}`, names: "run" },
  { method: "POST", path: (ids) => `/automations/${ids.automation}/runs/${ids.run}/cancel`, names: "run" },
];

const upper = (ids: Ids): Ids => ({
  satellite: ids.satellite.toUpperCase(),
  channel: ids.channel.toUpperCase(),
  automation: ids.automation.toUpperCase(),
  run: ids.run.toUpperCase(),
});

const label = (route: IdRoute) => `${route.method} ${route.path({ satellite: ":id", channel: ":id", automation: ":id", run: ":runId" })}`;

describe("ids in any case", () => {
  it.each(ROUTES.map((route) => [label(route), route] as const))("%s names the resource in upper case", async (_, route) => {
    const answer = await call(route.method, route.path(upper(await fixtures())), route.body);
    expect(answer.status, answer.text).toBeLessThan(400);
  });

  it("reach the core in lower case: renaming a connected satellite through its upper-case id records the change under its id", async () => {
    const { satellite } = await fixtures();
    await api.instance.pool.query(
      "UPDATE satellites SET last_connection_event = 'connected', last_heartbeat_at = now(), offline_at = now() + interval '1 hour', session_id = $2 WHERE id = $1",
      [satellite, randomUUID()],
    );
    const renamed = await call("PATCH", `/satellites/${satellite.toUpperCase()}`, { name: unique() });
    expect(renamed.status, renamed.text).toBe(200);
    const { rows } = await api.instance.pool.query<{ entity_id: string }>(
      "SELECT entity_id FROM entity_changes WHERE kind = 'satellite-connection' AND lower(entity_id) = $1",
      [satellite],
    );
    expect(rows).toEqual([{ entity_id: satellite }]);
  });
});

describe("ids that are not uuids", () => {
  it.each(ROUTES.map((route) => [label(route), route] as const))("%s answers a malformed id as an unknown one", async (_, route) => {
    const ids = await fixtures();
    for (const id of ["not-a-uuid", `${randomUUID()}0`, "12345678-1234-1234-1234-12345678901g", randomUUID()]) {
      const answer = await call(route.method, route.path({ ...ids, [route.names]: id }), route.body);
      expect(answer.status, `${id}: ${answer.text}`).toBe(404);
      expect(answer.body, id).toMatchObject({ error: { code: NOT_FOUND[route.names] } });
    }
  });
});
