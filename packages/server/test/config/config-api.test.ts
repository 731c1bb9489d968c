// Config as code through /api/v1/config: export → plan is no change, drift is shown and an apply
// restores it (recorded with its actor), an invalid bundle changes nothing and names every
// problem, prune touches only owned resources, and an apply is all or nothing.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { BundleResource, ConfigPlan } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { useFullApiApp } from "../support/api/full-api-app.ts";

const api = useFullApiApp("config-api");

type ApplyAnswer = {
  applyId: string;
  plan: ConfigPlan;
  satellites: Array<{ name: string; id: string; token: string }>;
  heartbeatChecks: Array<{ name: string; id: string; pingToken: string; pingUrl: string }>;
};

const check = (name: string, overrides: Record<string, unknown> = {}): BundleResource => ({
  kind: "Check",
  name,
  spec: { type: "http", url: "http://127.0.0.1:9/health", labels: { team: "web" }, ...overrides },
});

async function plan(bundle: string, resources: BundleResource[], options: Record<string, unknown> = {}): Promise<ConfigPlan> {
  const answer = await api.call<ConfigPlan>("POST", "/config/plan", { bundle, resources, ...options });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function apply(bundle: string, resources: BundleResource[], options: Record<string, unknown> = {}): Promise<ApplyAnswer> {
  const answer = await api.call<ApplyAnswer>("POST", "/config/apply", { bundle, resources, ...options });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

const count = async (table: string) => Number((await api.instance.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
const checkId = async (name: string) => (await api.instance.pool.query<{ id: string }>("SELECT id FROM checks WHERE name = $1", [name])).rows[0]?.id;

describe("export and plan", () => {
  it("plans no change for the export of a system with checks, channels, automations and satellites", async () => {
    const created = [
      await api.call("POST", "/notification-channels", {
        name: "ops hook",
        type: "webhook",
        config: { url: "http://127.0.0.1:9/hook", secret: "s3cret-value" },
      }),
      await api.call("POST", "/satellites", { name: "sat-export", region: "eu-west", tags: ["edge"] }),
      await api.call("POST", "/checks", {
        name: "export-check",
        type: "http",
        url: "http://127.0.0.1:9/",
        headers: { Authorization: "Bearer tok-123" },
        labels: { team: "web" },
      }),
      await api.call("POST", "/checks", { name: "export-heartbeat", type: "heartbeat", periodSeconds: 86_400, graceSeconds: 3_600 }),
      await api.call("POST", "/automations", {
        name: "export-automation",
        triggers: [{ event: "satellite.heartbeat_lost" }],
        actions: [{ notify: { channel: "ops hook", message: "lost" } }, { webhook: { url: "http://127.0.0.1:9/x", secret: "hook-secret" } }],
      }),
    ];
    for (const answer of created) expect(answer.status, answer.text).toBe(201);

    const exported = await api.call<{ resources: BundleResource[] }>("GET", "/config/export");
    expect(exported.status, exported.text).toBe(200);
    expect(exported.text).not.toMatch(/s3cret-value|tok-123|hook-secret/);
    expect(exported.body.resources.map((resource) => `${resource.kind}/${resource.name}`)).toEqual([
      "NotificationChannel/ops hook",
      "Satellite/sat-export",
      "Check/export-check",
      "Check/export-heartbeat",
      "Automation/export-automation",
    ]);
    const planned = await plan("exported", exported.body.resources);
    expect(planned.changes.filter((change) => change.action !== "no-op")).toEqual([]);
    expect(planned.hasChanges).toBe(false);
    expect(planned.changes.every((change) => change.adopt)).toBe(true);

    // Adopting them writes nothing but ownership; planned again, they are owned and unchanged.
    await apply("exported", exported.body.resources);
    const again = await plan("exported", exported.body.resources);
    expect(again.changes.map((change) => [change.action, change.adopt, change.drift])).toEqual(Array(5).fill(["no-op", false, false]));

    const filtered = await api.call<{ resources: BundleResource[] }>("GET", "/config/export?kind=Check&label=team%3Dweb");
    expect(filtered.body.resources.map((resource) => resource.name)).toEqual(["export-check"]);
  });
});

describe("drift", () => {
  it("shows an owned check edited through the API as drift, and an apply restores it with the caller as actor", async () => {
    const bundle = [check("drift-a"), check("drift-b")];
    const first = await apply("drift", bundle, { commit: "abc1234" });
    expect(first.plan.changes.map((change) => change.action)).toEqual(["create", "create"]);
    const id = (await checkId("drift-a"))!;

    const edited = await api.call("PATCH", `/checks/${id}`, { url: "http://127.0.0.1:9/edited" });
    expect(edited.status, edited.text).toBe(200);

    const planned = await plan("drift", bundle);
    const change = planned.changes.find((item) => item.name === "drift-a")!;
    expect(change).toMatchObject({
      action: "update",
      drift: true,
      changes: [{ path: "url", before: "http://127.0.0.1:9/edited", after: "http://127.0.0.1:9/health" }],
    });
    expect(planned.changes.find((item) => item.name === "drift-b")).toMatchObject({ action: "no-op", drift: false });

    const restored = await apply("drift", bundle, { commit: "def5678" });
    expect((await api.call("GET", `/checks/${id}`)).body.url).toBe("http://127.0.0.1:9/health");
    expect((await plan("drift", bundle)).hasChanges).toBe(false);

    const history = await api.call<{ changes: Array<Record<string, unknown>> }>("GET", "/config/history?kind=Check&name=drift-a");
    expect(history.body.changes).toEqual([
      expect.objectContaining({
        action: "update",
        changedPaths: ["url"],
        actor: expect.objectContaining({ type: "token", id: "admin" }),
        cause: { type: "config.apply", id: restored.applyId, commit: "def5678" },
      }),
      expect.objectContaining({ action: "create", cause: { type: "config.apply", id: first.applyId, commit: "abc1234" } }),
    ]);
    // The check's own history has the API's edit between the applies: every writer, one trail.
    const trail = await api.call<{ changes: Array<Record<string, unknown>> }>("GET", `/checks/${id}/history`);
    expect(trail.body.changes).toMatchObject([
      { action: "update", changedFields: ["url"], cause: { type: "config.apply", id: restored.applyId, commit: "def5678" } },
      { action: "update", changedFields: ["url"], cause: { type: "api-request" } },
      { action: "create", actor: { type: "token", id: "admin" }, cause: { type: "config.apply", id: first.applyId } },
    ]);
  });

  it("finds an owned check renamed through the API by its applied name, and renames it back", async () => {
    await apply("renamed-outside", [check("applied-name")]);
    const id = (await checkId("applied-name"))!;
    expect((await api.call("PATCH", `/checks/${id}`, { name: "renamed-in-ui" })).status).toBe(200);
    const planned = await plan("renamed-outside", [check("applied-name")]);
    expect(planned.changes).toEqual([
      expect.objectContaining({ action: "update", id, drift: true, changes: [{ path: "name", before: "renamed-in-ui", after: "applied-name" }] }),
    ]);
    await apply("renamed-outside", [check("applied-name")]);
    expect(await checkId("applied-name")).toBe(id);
  });

  it("masks secrets in the plan and detects a changed secret", async () => {
    const bundle: BundleResource[] = [check("secret-check", { headers: { Authorization: "Bearer one" } })];
    await apply("secrets", bundle);
    const planned = await api.call<ConfigPlan>("POST", "/config/plan", {
      bundle: "secrets",
      resources: [check("secret-check", { headers: { Authorization: "Bearer two" } })],
    });
    expect(planned.text).not.toMatch(/Bearer/);
    expect(planned.body.changes[0]).toMatchObject({ action: "update", changes: [{ path: "headers.Authorization", before: "<secret>", after: "<secret>" }] });
  });
});

describe("an invalid bundle", () => {
  it("changes nothing and names every invalid resource at its index and path", async () => {
    const before = await count("checks");
    const resources = Array.from({ length: 50 }, (_, index) => check(`bulk-${index}`));
    resources[17] = check("bulk-17", { url: "not a url", intervalSeconds: "often" });
    resources[42] = { kind: "Automation", name: "bad-automation", spec: { triggers: [{ event: "no.such_event" }], actions: [] } };
    const answer = await api.call<{ error: { code: string; details: { issues: Array<{ path: string }> } } }>("POST", "/config/apply", {
      bundle: "bulk",
      resources,
    });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.error.code).toBe("invalid_bundle");
    const paths = answer.body.error.details.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["resources.17.spec.url", "resources.17.spec.intervalSeconds"]));
    expect(paths.some((path) => path.startsWith("resources.42.spec."))).toBe(true);
    expect(await count("checks")).toBe(before);
  });

  it("refuses a name inside a spec instead of letting the resource's name win silently", async () => {
    const answer = await api.call<{ error: { code: string; details: { issues: Array<{ path: string; message: string }> } } }>("POST", "/config/plan", {
      bundle: "named",
      resources: [check("outer-name", { name: "inner-name" })],
    });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.error.details.issues).toEqual([
      { path: "resources.0.spec.name", message: "the name is the resource's own (name: beside kind:), not part of its spec" },
    ]);
  });
});

describe("prune and detach", () => {
  it("prune deletes only what the bundle owns; a check created through the API survives", async () => {
    await apply("prune", [check("prune-kept"), check("prune-dropped")]);
    const outsider = await api.call("POST", "/checks", { name: "prune-outsider", type: "http", url: "http://127.0.0.1:9/" });
    expect(outsider.status).toBe(201);

    const planned = await plan("prune", [check("prune-kept")], { prune: true });
    expect(planned.changes.map((change) => [change.name, change.action])).toEqual([
      ["prune-dropped", "delete"],
      ["prune-kept", "no-op"],
    ]);
    await apply("prune", [check("prune-kept")], { prune: true });
    expect(await checkId("prune-dropped")).toBeUndefined();
    expect(await checkId("prune-kept")).toBeDefined();
    expect(await checkId("prune-outsider")).toBeDefined();
  });

  it("prune refuses to delete a channel that an automation outside the bundle notifies, and deletes nothing", async () => {
    const channel: BundleResource = {
      kind: "NotificationChannel",
      name: "prune-channel",
      spec: { type: "slack", config: { webhookUrl: "https://hooks.slack.com/services/T/B/Y" } },
    };
    await apply("prune-channel", [channel, check("prune-channel-check")]);
    const user = await api.call("POST", "/automations", {
      name: "outside-user",
      triggers: [{ event: "check.unhealthy" }],
      actions: [{ notify: { channel: "prune-channel", message: "down" } }],
    });
    expect(user.status, user.text).toBe(201);
    const refused = await api.call<{ error: { code: string; details: Record<string, unknown> } }>("POST", "/config/apply", {
      bundle: "prune-channel",
      resources: [],
      prune: true,
    });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.error.details).toMatchObject({ kind: "NotificationChannel", name: "prune-channel", code: "channel_in_use" });
    expect(await checkId("prune-channel-check")).toBeDefined();
  });

  it("detach releases a dropped resource: it stays, unowned, and another bundle may take it", async () => {
    await apply("detach", [check("detach-a"), check("detach-b")]);
    const planned = await plan("detach", [check("detach-a")], { detach: true });
    expect(planned.changes.find((change) => change.name === "detach-b")?.action).toBe("detach");
    await apply("detach", [check("detach-a")], { detach: true });
    expect(await checkId("detach-b")).toBeDefined();
    expect((await plan("other", [check("detach-b")])).changes[0]).toMatchObject({ action: "no-op", adopt: true });
    const refused = await api.call("POST", "/config/plan", { bundle: "other", resources: [check("detach-a")] });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/owned by bundle \\"detach\\"/);
  });

  it("renames through previousName, keeping the resource and its ownership", async () => {
    await apply("rename", [check("rename-old")]);
    const id = await checkId("rename-old");
    const renamed = { ...check("rename-new"), previousName: "rename-old" };
    const planned = await plan("rename", [renamed]);
    expect(planned.changes[0]).toMatchObject({
      action: "update",
      previousName: "rename-old",
      changes: [{ path: "name", before: "rename-old", after: "rename-new" }],
    });
    await apply("rename", [renamed]);
    expect(await checkId("rename-new")).toBe(id);
  });
});

describe("all or nothing", () => {
  it("a write refused in the middle of an apply leaves nothing of it", async () => {
    // A resource that passes validation but fails at write time, after others were written.
    await api.instance.pool.query(`
      CREATE FUNCTION refuse_exploding_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'atomic-explodes' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_exploding_check BEFORE INSERT ON checks FOR EACH ROW EXECUTE FUNCTION refuse_exploding_check();`);
    try {
      const before = { checks: await count("checks"), channels: await count("notification_channels"), owned: await count("config_ownership") };
      const resources: BundleResource[] = [
        { kind: "NotificationChannel", name: "atomic-channel", spec: { type: "slack", config: { webhookUrl: "https://hooks.slack.com/services/T/B/X" } } },
        check("atomic-1"),
        check("atomic-explodes"),
        check("atomic-3"),
      ];
      const answer = await api.call<{ error: { code: string; details: Record<string, unknown> } }>("POST", "/config/apply", { bundle: "atomic", resources });
      expect(answer.status, answer.text).toBe(409);
      expect(answer.body.error.code).toBe("config_apply_failed");
      expect(answer.body.error.details).toMatchObject({ kind: "Check", name: "atomic-explodes", action: "create" });
      expect({ checks: await count("checks"), channels: await count("notification_channels"), owned: await count("config_ownership") }).toEqual(before);
    } finally {
      await api.instance.pool.query("DROP TRIGGER refuse_exploding_check ON checks; DROP FUNCTION refuse_exploding_check()");
    }
  });

  it("apply with a saved plan's fingerprint refuses once the state moved", async () => {
    const bundle = [check("stale-a")];
    const saved = await plan("stale", bundle);
    await api.call("POST", "/checks", { name: "stale-a", type: "http", url: "http://127.0.0.1:9/other" });
    const answer = await api.call<{ error: { code: string } }>("POST", "/config/apply", { bundle: "stale", resources: bundle, fingerprint: saved.fingerprint });
    expect(answer.status, answer.text).toBe(409);
    expect(answer.body.error.code).toBe("config_plan_stale");
    const fresh = await plan("stale", bundle);
    await apply("stale", bundle, { fingerprint: fresh.fingerprint });
  });

  it("creates a heartbeat check and answers its ping URL once, which takes pings; an update keeps it", async () => {
    const heartbeat = (periodSeconds: number): BundleResource => ({ kind: "Check", name: "config-heartbeat", spec: { type: "heartbeat", periodSeconds } });
    const result = await apply("heartbeats", [heartbeat(3_600)]);
    const id = await checkId("config-heartbeat");
    expect(result.heartbeatChecks).toEqual([{ name: "config-heartbeat", id, pingToken: expect.stringMatching(/^vhb_/), pingUrl: expect.any(String) }]);
    const [created] = result.heartbeatChecks;
    expect(created!.pingUrl).toBe(`/hb/${created!.pingToken}`);
    expect(result.satellites).toEqual([]);
    expect((await api.app.request(created!.pingUrl, { method: "POST" })).status).toBe(200);

    const updated = await apply("heartbeats", [heartbeat(7_200)]);
    expect(updated.plan.changes[0]).toMatchObject({ action: "update", changes: [{ path: "periodSeconds", before: 3_600, after: 7_200 }] });
    expect(updated.heartbeatChecks).toEqual([]);
    expect((await api.app.request(created!.pingUrl, { method: "POST" })).status).toBe(200);
  });

  it("creates a satellite and answers its token once", async () => {
    const result = await apply("sats", [{ kind: "Satellite", name: "sat-config", spec: { region: "us-east", tags: ["a"] } }]);
    expect(result.satellites).toEqual([{ name: "sat-config", id: expect.any(String), token: expect.stringMatching(/^vsat_/) }]);
    const updated = await apply("sats", [{ kind: "Satellite", name: "sat-config", spec: { region: "us-west" } }]);
    expect(updated.plan.changes[0]).toMatchObject({ action: "update", changes: [{ path: "region" }, { path: "tags", before: ["a"], after: [] }] });
    expect(updated.satellites).toEqual([]);
  });
});

describe("secrets", () => {
  const value = "sk-live-9f8e7d6c5b4a";

  it("are set once, listed by name only, resolved at apply, and never echoed by plan, export or the apply's answer", async () => {
    const set = await api.call("PUT", "/config/secrets/PAYMENTS_KEY", { value });
    expect(set.status, set.text).toBe(201);
    expect(set.text).not.toContain(value);
    expect((await api.call("PUT", "/config/secrets/PAYMENTS_KEY", { value })).status).toBe(200);
    const listed = await api.call<{ secrets: Array<{ name: string }> }>("GET", "/config/secrets");
    expect(listed.body.secrets.map((secret) => secret.name)).toContain("PAYMENTS_KEY");
    expect(listed.text).not.toContain(value);
    const stored = await api.instance.pool.query<{ sealed: unknown }>("SELECT sealed FROM config_secrets WHERE name = 'PAYMENTS_KEY'");
    expect(JSON.stringify(stored.rows[0]!.sealed)).not.toContain(value);

    // In a credential header (masked as a secret) and in the URL (masked as its reference).
    const bundle = [
      check("secret-ref", { url: "http://127.0.0.1:9/pay?key=${secret:PAYMENTS_KEY}", headers: { Authorization: "Bearer ${secret:PAYMENTS_KEY}" } }),
    ];
    const planned = await api.call<ConfigPlan>("POST", "/config/plan", { bundle: "secret-refs", resources: bundle });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.text).not.toContain(value);
    const applied = await api.call("POST", "/config/apply", { bundle: "secret-refs", resources: bundle });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.text).not.toContain(value);
    const { rows } = await api.instance.pool.query<{ definition: { url: string } }>("SELECT definition FROM checks WHERE name = 'secret-ref'");
    expect(rows[0]!.definition.url).toBe(`http://127.0.0.1:9/pay?key=${value}`);

    const exported = await api.call<{ resources: BundleResource[] }>("GET", "/config/export?bundle=secret-refs");
    expect(exported.text).not.toContain(value);
    expect(exported.body.resources.map((resource) => resource.name)).toEqual(["secret-ref"]);
    expect(exported.body.resources[0]!.spec.url).toBe("http://127.0.0.1:9/pay?key=${secret:PAYMENTS_KEY}");
    expect((await plan("secret-refs", exported.body.resources)).hasChanges).toBe(false);

    // Rotated: the plan shows the change without either value.
    await api.call("PUT", "/config/secrets/PAYMENTS_KEY", { value: "sk-live-rotated-000" });
    const rotated = await api.call<ConfigPlan>("POST", "/config/plan", { bundle: "secret-refs", resources: bundle });
    expect(rotated.body.changes[0]).toMatchObject({ action: "update" });
    expect(rotated.text).not.toMatch(/sk-live/);
  });

  it("a reference to a secret not stored makes the bundle invalid at its place; short values and bad names are refused", async () => {
    const answer = await api.call<{ error: { code: string; details: { issues: Array<{ path: string; message: string }> } } }>("POST", "/config/plan", {
      bundle: "secret-missing",
      resources: [check("secret-missing", { headers: { "X-Key": "${secret:NOT_STORED}" } })],
    });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.error.details.issues).toContainEqual(
      expect.objectContaining({ path: "resources.0.spec.headers.X-Key", message: expect.stringMatching(/no secret named NOT_STORED/) }),
    );
    expect((await api.call("PUT", "/config/secrets/SHORT", { value: "abc" })).status).toBe(400);
    expect((await api.call("PUT", "/config/secrets/9bad-name", { value: "long enough value" })).status).toBe(400);
    expect((await api.call("DELETE", "/config/secrets/NOT_STORED")).status).toBe(404);
    expect((await api.call("PUT", "/config/secrets/TO_DELETE", { value: "long enough value" })).status).toBe(201);
    expect((await api.call("DELETE", "/config/secrets/TO_DELETE")).status).toBe(204);
  });
});

describe("maintenance windows", () => {
  const window = (name: string, overrides: Record<string, unknown> = {}): BundleResource => ({
    kind: "MaintenanceWindow",
    name,
    spec: { checks: { labels: { team: "web" } }, start: "2030-01-05T02:00:00Z", end: "2030-01-05T04:00:00Z", ...overrides },
  });

  it("are created, exported as no change, shown as drift when edited through the API, and pruned", async () => {
    const first = await apply("windows", [window("db-upgrade"), check("window-check")]);
    expect(first.plan.changes.map((change) => [change.kind, change.action])).toEqual([
      ["Check", "create"],
      ["MaintenanceWindow", "create"],
    ]);
    const exported = await api.call<{ resources: BundleResource[] }>("GET", "/config/export?kind=MaintenanceWindow&bundle=windows");
    expect(exported.body.resources).toEqual([window("db-upgrade")]);
    expect((await plan("windows", [window("db-upgrade"), check("window-check")])).hasChanges).toBe(false);
    const owners = await api.call<{ owners: Array<Record<string, unknown>> }>("GET", `/config/owners?kind=Check&id=${await checkId("window-check")}`);
    expect(owners.body.owners).toEqual([expect.objectContaining({ kind: "Check", bundle: "windows", name: "window-check" })]);
    const windows = await api.call<{ owners: Array<Record<string, unknown>> }>("GET", "/config/owners?kind=MaintenanceWindow");
    expect(windows.body.owners.map((owner) => [owner.name, owner.bundle])).toEqual([["db-upgrade", "windows"]]);

    const { rows } = await api.instance.pool.query<{ id: string }>("SELECT id FROM maintenance_windows WHERE name = 'db-upgrade'");
    const edited = await api.call("PUT", `/maintenance-windows/${rows[0]!.id}`, {
      ...window("db-upgrade").spec,
      name: "db-upgrade",
      end: "2030-01-05T05:00:00Z",
    });
    expect(edited.status, edited.text).toBe(200);
    const drifted = await plan("windows", [window("db-upgrade"), check("window-check")]);
    expect(drifted.changes.find((change) => change.kind === "MaintenanceWindow")).toMatchObject({
      action: "update",
      drift: true,
      changes: [{ path: "end", before: "2030-01-05T05:00:00Z", after: "2030-01-05T04:00:00Z" }],
    });
    const invalid = await api.call("POST", "/config/plan", { bundle: "windows", resources: [window("bad-window", { end: "2030-01-05T01:00:00Z" })] });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toMatch(/resources\.0\.spec\.end/);

    const pruned = await apply("windows", [check("window-check")], { prune: true });
    expect(await count("maintenance_windows")).toBe(0);
    const trail = await api.call<{ changes: Array<Record<string, unknown>> }>("GET", `/maintenance-windows/${rows[0]!.id}/history`);
    expect(trail.body.changes.map((change) => [change.action, (change.cause as { type: string }).type])).toEqual([
      ["delete", "config.apply"],
      ["update", "api-request"],
      ["create", "config.apply"],
    ]);
    expect(trail.body.changes[0]).toMatchObject({ cause: { id: pruned.applyId } });
  });
});

describe("a bundle of 500 resources", () => {
  it("is accepted above the API's 64 KiB body limit and planned, resource by resource", async () => {
    const resources = Array.from({ length: 500 }, (_, index) => check(`large-${index}`, { labels: { team: "web", padding: "x".repeat(100) } }));
    const body = JSON.stringify({ bundle: "large", resources });
    expect(body.length).toBeGreaterThan(64 * 1024);
    const planned = await plan("large", resources);
    expect(planned.changes.filter((change) => change.action === "create")).toHaveLength(500);
    // Elsewhere the API keeps its limit.
    expect((await api.call("POST", "/checks", { name: "big", type: "http", url: "http://127.0.0.1:9/", description: "x".repeat(70 * 1024) })).status).toBe(413);
  });
});

describe("test", () => {
  it("runs each check once on the core and validates the rest, saving nothing", async () => {
    const target = createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    try {
      const port = (target.address() as AddressInfo).port;
      const before = { checks: await count("checks"), automations: await count("automations") };
      const resources: BundleResource[] = [
        check("trial-up", { url: `http://127.0.0.1:${port}/` }),
        check("trial-down", { timeoutMs: 1000 }),
        { kind: "Automation", name: "trial-automation", spec: { triggers: [{ event: "check.unhealthy" }], actions: [{ log: { message: "down" } }] } },
      ];
      const answer = await api.call<{ passed: boolean; checks: Array<{ name: string; location: string; outcome?: { status: string } }> }>(
        "POST",
        "/config/test",
        { bundle: "trial", resources },
      );
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.passed).toBe(false);
      expect(answer.body.checks.map((trial) => [trial.name, trial.location, trial.outcome?.status])).toEqual([
        ["trial-up", "core", "up"],
        ["trial-down", "core", "down"],
      ]);
      expect({ checks: await count("checks"), automations: await count("automations") }).toEqual(before);

      const invalid = await api.call("POST", "/config/test", { bundle: "trial", resources: [{ ...resources[2]!, spec: { triggers: [], actions: [] } }] });
      expect(invalid.status).toBe(400);
      expect((await api.call("POST", "/config/test?satellite=nowhere", { bundle: "trial", resources })).status).toBe(404);
      // On a satellite by name: one that is not connected cannot run them, and says so per check.
      expect((await api.call("POST", "/satellites", { name: "trial-sat", region: "eu-west" })).status).toBe(201);
      const onSatellite = await api.call<{ passed: boolean; checks: Array<{ name: string; location: string; error?: string }> }>(
        "POST",
        "/config/test?satellite=trial-sat",
        { bundle: "trial", resources: resources.slice(0, 1) },
      );
      expect(onSatellite.status, onSatellite.text).toBe(200);
      expect(onSatellite.body).toMatchObject({
        passed: false,
        checks: [{ name: "trial-up", location: "trial-sat", error: expect.stringMatching(/offline|not connected/i) }],
      });
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
