// A notify step must name an existing channel (nested steps too), and a channel that steps name cannot be deleted or renamed under them.
import { describe, expect, it } from "vitest";
import type { AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import type { ChannelView } from "../../../src/notifications/channel-store.ts";
import { type Answer } from "../../support/api/api-app.ts";
import { useFullApiApp } from "../../support/api/full-api-app.ts";

const api = useFullApiApp("notify-channel-check");
let ops: ChannelView;

// The modules as a core starts them: the channels' API learns from the automations module which
// automations name a channel.
const { call } = api;

let named = 0;
const definition = (actions: unknown[], name = `notify-check-${++named}`) => ({ name, triggers: [{ event: "satellite.heartbeat_lost" }], actions });
const notify = (channel: string) => ({ notify: { channel, message: "{{ trigger.payload.name }} is down" } });
const issues = (answer: Answer) => (answer.body.error as { details: { issues: Array<{ path: string; message: string }> } }).details.issues;

describe("a notify step must name an existing notification channel", () => {
  it("refuses every definition while no channel exists, saying there is none", async () => {
    const answer = await call("POST", "/automations", definition([notify("ops")]));
    expect(answer.status).toBe(400);
    expect(issues(answer)).toEqual([
      { path: "actions.0.notify.channel", message: expect.stringMatching(/no notification channel has the name "ops" \(known: none/) },
    ]);
  });

  it("saves a definition naming a channel by name or by id", async () => {
    const created = await call<ChannelView>("POST", "/notification-channels", {
      name: "ops",
      type: "webhook",
      config: { url: "https://hooks.example.com/ops" },
    });
    expect(created.status, created.text).toBe(201);
    ops = created.body;
    await call("POST", "/notification-channels", { name: "on-call", type: "webhook", config: { url: "https://hooks.example.com/on-call" } });

    const byName = await call("POST", "/automations", definition([notify("ops")]));
    expect(byName.status, byName.text).toBe(201);
    const byId = await call("POST", "/automations", definition([notify(ops.id.toUpperCase())]));
    expect(byId.status, byId.text).toBe(201);
  });

  it("refuses an unknown channel at its path, nested steps too, listing the known channel names", async () => {
    const answer = await call(
      "POST",
      "/automations",
      definition([
        notify("ops"),
        {
          choose: {
            when: [{ conditions: [{ compare: { left: "trigger.payload.region", op: "==", right: "'eu-west'" } }], then: [notify("opz")] }],
            else: [notify("ops")],
          },
        },
        { parallel: { branches: [[{ log: { message: "x" } }], [notify("00000000-0000-4000-8000-000000000000")]] } },
      ]),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: "invalid_automation" });
    expect(issues(answer).map((issue) => issue.path)).toEqual([
      "actions.1.choose.when.0.then.0.notify.channel",
      "actions.2.parallel.branches.1.0.notify.channel",
    ]);
    expect(issues(answer)[0]!.message).toBe('no notification channel has the name "opz" (did you mean "ops"? known: "on-call", "ops")');
    expect(issues(answer)[1]!.message).toMatch(/has the id "00000000-0000-4000-8000-000000000000"/);
  });

  it("refuses a replace naming an unknown channel and keeps the stored definition", async () => {
    const created = await call<AutomationView>("POST", "/automations", definition([notify("ops")]));
    const replaced = await call("PUT", `/automations/${created.body.id}`, definition([notify("gone")], created.body.name));
    expect(replaced.status).toBe(400);
    expect(issues(replaced).map((issue) => issue.path)).toEqual(["actions.0.notify.channel"]);
    expect((await call<AutomationView>("GET", `/automations/${created.body.id}`)).body).toMatchObject({
      version: 1,
      actions: [{ notify: { channel: "ops" } }],
    });
  });

  it("reports an unknown channel from /validate, and a known one as valid", async () => {
    const invalid = await call("POST", "/automations/validate", definition([notify("opz")]));
    expect(invalid.status).toBe(200);
    expect(invalid.body).toEqual({ valid: false, errors: [{ path: "actions.0.notify.channel", message: expect.stringContaining('"opz"') }] });
    const valid = await call("POST", "/automations/validate", definition([notify("ops")]));
    expect(valid.body).toMatchObject({ valid: true, errors: [] });
  });
});

describe("a channel that notify steps name", () => {
  const chooseNotify = (channel: string) => ({ choose: { when: [{ conditions: [{ compare: { left: 1, op: "==", right: 1 } }], then: [notify(channel)] }] } });

  it("cannot be deleted while an automation names it, by name or by id, nested too", async () => {
    const pager = (
      await call<ChannelView>("POST", "/notification-channels", { name: "pager", type: "webhook", config: { url: "https://hooks.example.com/pager" } })
    ).body;
    const byName = (await call<AutomationView>("POST", "/automations", definition([chooseNotify("pager")], "pages-by-name"))).body;
    const byId = (await call<AutomationView>("POST", "/automations", definition([notify(pager.id.toUpperCase())], "pages-by-id"))).body;

    const refused = await call("DELETE", `/notification-channels/${pager.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "channel_in_use", details: { automations: ["pages-by-id", "pages-by-name"] } } });
    expect((await call("GET", `/notification-channels/${pager.id}`)).status).toBe(200);

    await call("DELETE", `/automations/${byName.id}`);
    expect((await call("DELETE", `/notification-channels/${pager.id}`)).status).toBe(409);
    await call("DELETE", `/automations/${byId.id}`);
    expect((await call("DELETE", `/notification-channels/${pager.id}`)).status).toBe(204);
  });

  it("cannot be renamed while a step names it by name; a step naming it by id follows the rename", async () => {
    const sms = (await call<ChannelView>("POST", "/notification-channels", { name: "sms", type: "webhook", config: { url: "https://hooks.example.com/sms" } }))
      .body;
    expect((await call("POST", "/automations", definition([notify(sms.id)], "texts-by-id"))).status).toBe(201);
    expect((await call("PATCH", `/notification-channels/${sms.id}`, { name: "sms-2" })).status).toBe(200);

    await call("POST", "/automations", definition([notify("sms-2")], "texts-by-name"));
    const refused = await call("PATCH", `/notification-channels/${sms.id}`, { name: "sms-3" });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "channel_in_use", details: { automations: ["texts-by-name"] } } });
    // Other changes, and keeping the name, stay possible.
    expect((await call("PATCH", `/notification-channels/${sms.id}`, { name: "sms-2", config: { url: "https://hooks.example.com/sms-b" } })).status).toBe(200);
  });
});
