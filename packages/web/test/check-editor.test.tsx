// @vitest-environment happy-dom
// The check editor: its form ↔ definition ↔ YAML model round-trips (what the form does not show
// survives, a change of type drops the old type's options), and the editor against a stubbed API
// keeps form and YAML in step, shows the API's problems at the fields their paths name, and
// shows what "Test" ran.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { CheckEditor } from "../src/features/checks/editor/check-editor.tsx";
import {
  applyForm,
  type Draft,
  draftOfCheck,
  fieldOfPath,
  fieldsOf,
  formOf,
  fromYaml,
  newDraft,
  toYaml,
} from "../src/features/checks/editor/check-form-model.ts";
import { signInForEachTest } from "./support/render-screen.tsx";

const STORED: Draft = {
  name: "api",
  description: "the public API",
  type: "http",
  enabled: true,
  url: "https://example.com/health",
  method: "GET",
  headers: { authorization: "<redacted>" },
  followRedirects: true,
  maxRedirects: 10,
  tls: { verify: true },
  ipFamily: "any",
  expectStatus: ["2xx", 301],
  intervalSeconds: 30,
  timeoutMs: 5000,
  runOn: { core: true, satellites: { regions: ["eu-central"], tags: ["dmz"] } },
  labels: { env: "prod", team: "web" },
  assertions: [{ subject: "json:$.ok", op: "eq", value: true, onFail: "fail" }],
  health: { policy: { quorum: 2 }, failuresToUnhealthy: 3, successesToRecover: 2, graceSeconds: 30 },
};

describe("the editor's model", () => {
  it("writes back exactly the definition it read when nothing is edited", () => {
    expect(applyForm(STORED, formOf(STORED))).toEqual(STORED);
    for (const draft of [newDraft("http"), newDraft("tcp"), newDraft("dns"), newDraft("tls"), { type: "tcp", host: "db", port: "x", tls: true }])
      expect(applyForm(draft, formOf(draft))).toEqual(draft);
  });

  it("round-trips through YAML: definition → YAML → definition → form → definition", () => {
    const read = fromYaml(toYaml(STORED));
    expect(read).toEqual({ ok: true, draft: STORED });
    if (read.ok) expect(applyForm(read.draft, formOf(read.draft))).toEqual(STORED);
  });

  it("changes only the fields edited, keeping what the form does not show", () => {
    const form = {
      ...formOf(STORED),
      url: "https://example.com/ready",
      labels: "env=staging",
      failuresToUnhealthy: "1",
      satelliteRegions: "",
      intervalSeconds: "",
    };
    const next = applyForm(STORED, form);
    expect(next).toEqual({
      ...STORED,
      url: "https://example.com/ready",
      labels: { env: "staging" },
      health: { ...(STORED.health as object), failuresToUnhealthy: 1 },
      runOn: { core: true, satellites: { tags: ["dmz"] } },
      intervalSeconds: undefined,
    });
    expect("intervalSeconds" in next).toBe(false);
  });

  it("sends a number the user mistyped as text, for the API to name the field", () => {
    expect(applyForm(newDraft(), { ...formOf(newDraft()), timeoutMs: "5s" }).timeoutMs).toBe("5s");
  });

  it("drops the old type's options on a change of type, keeping the common fields and shared ones", () => {
    const tcp = applyForm(STORED, { ...formOf(STORED), type: "tcp", host: "db.internal", port: "5432" });
    expect(tcp).toMatchObject({ type: "tcp", host: "db.internal", port: 5432, name: "api", labels: STORED.labels, assertions: STORED.assertions });
    for (const key of ["url", "method", "headers", "tls", "expectStatus", "followRedirects"]) expect(tcp).not.toHaveProperty(key);
    expect(tcp.ipFamily).toBe("any");
    const tls = applyForm(tcp, { ...formOf(tcp), type: "tls" });
    expect(tls).toMatchObject({ type: "tls", host: "db.internal", port: 5432 });
  });

  it("round-trips a heartbeat check, and a change to heartbeat drops a probe's scheduling and target", () => {
    const heartbeat: Draft = {
      name: "nightly backup",
      type: "heartbeat",
      periodSeconds: 86_400,
      graceSeconds: 3_600,
      labels: { team: "ops" },
      health: { failuresToUnhealthy: 1, successesToRecover: 1 },
    };
    expect(applyForm(heartbeat, formOf(heartbeat))).toEqual(heartbeat);
    expect(fromYaml(toYaml(heartbeat))).toEqual({ ok: true, draft: heartbeat });
    expect(newDraft("heartbeat")).toEqual({ name: "", type: "heartbeat", periodSeconds: 3_600, graceSeconds: 300 });
    expect(fieldsOf("heartbeat")).toEqual([
      "type",
      "name",
      "description",
      "enabled",
      "periodSeconds",
      "graceSeconds",
      "labels",
      "failuresToUnhealthy",
      "successesToRecover",
    ]);
    const changed = applyForm(STORED, { ...formOf(STORED), type: "heartbeat", periodSeconds: "600", graceSeconds: "0" });
    expect(changed).toEqual({
      name: "api",
      description: "the public API",
      type: "heartbeat",
      enabled: true,
      labels: STORED.labels,
      health: STORED.health,
      periodSeconds: 600,
      graceSeconds: 0,
    });
    // Back to a probe: the heartbeat's own fields go.
    expect(applyForm(changed, { ...formOf(changed), type: "http", url: "https://example.com/" })).not.toHaveProperty("periodSeconds");
    // runOn has no field on a heartbeat form: its issue stays in the list instead of vanishing.
    expect(fieldOfPath("runOn", "heartbeat")).toBeUndefined();
    expect(fieldOfPath("periodSeconds", "heartbeat")).toBe("periodSeconds");
  });

  it("strips a stored check's read-only fields, and reports YAML that is not a mapping", () => {
    expect(draftOfCheck({ id: "x", revision: 3, createdAt: "a", updatedAt: "b", status: "healthy", name: "n" })).toEqual({ name: "n" });
    expect(fromYaml("- a\n- b\n")).toMatchObject({ ok: false });
    expect(fromYaml("name: [unclosed\n")).toMatchObject({ ok: false });
  });

  it("maps the API's issue paths to the form's fields", () => {
    expect(fieldOfPath("health.failuresToUnhealthy", "http")).toBe("failuresToUnhealthy");
    expect(fieldOfPath("labels.Env", "http")).toBe("labels");
    expect(fieldOfPath("runOn.satellites.regions.0", "http")).toBe("satelliteRegions");
    expect(fieldOfPath("runOn", "http")).toBe("runOnCore");
    expect(fieldOfPath("expectStatus.1", "http")).toBe("expectStatus");
    expect(fieldOfPath("tls", "tcp")).toBe("tls");
    expect(fieldOfPath("tls.ca", "http")).toBeUndefined();
    expect(fieldOfPath("assertions.0.value", "http")).toBeUndefined();
    expect(fieldOfPath("url", "dns")).toBeUndefined();
  });
});

interface Call {
  url: string;
  method: string;
  body: unknown;
}
let calls: Call[] = [];

function stubApi(answer: (call: Call) => { status: number; body: unknown }) {
  calls = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const call = { url, method: init.method ?? "GET", body: init.body ? JSON.parse(init.body as string) : undefined };
    calls.push(call);
    const { status, body } = answer(call);
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  });
}
const NO_SATELLITES = { status: 200, body: { satellites: [], next: null } };

function renderEditor(initial: Draft = newDraft()) {
  const onSaved = vi.fn();
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <CheckEditor initial={initial} onSaved={onSaved} />
    </QueryClientProvider>,
  );
  return { onSaved };
}

signInForEachTest();

describe("the check editor", () => {
  it("keeps the form and the YAML tab in step both ways", async () => {
    stubApi(() => NO_SATELLITES);
    renderEditor();
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "shop" } });
    fireEvent.change(screen.getByLabelText("URL"), { target: { value: "https://shop.example/" } });
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    const yaml = screen.getByLabelText("Definition (YAML)") as HTMLTextAreaElement;
    expect(fromYaml(yaml.value)).toEqual({ ok: true, draft: { name: "shop", type: "http", url: "https://shop.example/", intervalSeconds: 60 } });
    fireEvent.change(yaml, {
      target: { value: `${yaml.value}assertions:\n  - { subject: status, op: eq, value: 200 }\nintervalSeconds: 15\n`.replace("intervalSeconds: 60\n", "") },
    });
    fireEvent.click(screen.getByRole("tab", { name: "Form" }));
    expect((screen.getByLabelText("Interval (s)") as HTMLInputElement).value).toBe("15");
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    expect((screen.getByLabelText("Definition (YAML)") as HTMLTextAreaElement).value).toContain("subject: status");
  });

  it("stays on YAML that does not parse, saying why", async () => {
    stubApi(() => NO_SATELLITES);
    renderEditor();
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    fireEvent.change(screen.getByLabelText("Definition (YAML)"), { target: { value: "name: [oops\n" } });
    fireEvent.click(screen.getByRole("tab", { name: "Form" }));
    expect((await screen.findByRole("alert")).textContent).toContain("does not parse");
    expect(screen.getByLabelText("Definition (YAML)")).toBeTruthy();
  });

  it("shows each refused field's problem at the field, and the rest in a list", async () => {
    stubApi((call) =>
      call.method === "POST"
        ? {
            status: 400,
            body: {
              error: {
                code: "invalid_check",
                message: "Invalid check: url: must be an http:// or https:// URL; assertions.0.op: unknown.",
                details: {
                  issues: [
                    { path: "url", message: "url must be an http:// or https:// URL" },
                    { path: "health.failuresToUnhealthy", message: "failuresToUnhealthy must be at least 1" },
                    { path: "assertions.0.op", message: "op must be one of eq, ne" },
                  ],
                },
              },
            },
          }
        : NO_SATELLITES,
    );
    const { onSaved } = renderEditor();
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    await screen.findByText("url must be an http:// or https:// URL");
    expect(screen.getByLabelText("URL").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText("Failures before unhealthy").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("list", { name: "Problems" }).textContent).toBe("assertions.0.op op must be one of eq, ne");
    expect(onSaved).not.toHaveBeenCalled();
  });

  it("tests the unsaved definition and shows each assertion's expected and actual", async () => {
    stubApi((call) =>
      call.url.startsWith("/api/v1/checks/test")
        ? {
            status: 200,
            body: {
              result: {
                location: "core",
                startedAt: "2030-01-01T00:00:00.000Z",
                durationMs: 41.6,
                status: "down",
                detail: {
                  reason: "expected status 2xx, got 503",
                  http: { statusCode: 503 },
                  assertions: [{ path: "assertions[0]", subject: "status", op: "eq", expected: 200, actual: 503, pass: false, onFail: "fail" }],
                },
              },
            },
          }
        : NO_SATELLITES,
    );
    renderEditor({ name: "shop", type: "http", url: "https://shop.example/" });
    fireEvent.click(screen.getByRole("button", { name: "Test" }));
    const result = await screen.findByRole("region", { name: "Test result" });
    expect(result.textContent).toContain("down");
    expect(result.textContent).toContain("42 ms");
    expect(result.textContent).toContain("expected status 2xx, got 503");
    const row = screen.getByRole("table", { name: "Assertions" }).querySelector("tbody tr")!;
    expect([...row.querySelectorAll("td")].map((cell) => cell.textContent)).toEqual(["status eq", "200", "503", "fails"]);
    const sent = calls.find((call) => call.method === "POST")!;
    expect(sent.url).toBe("/api/v1/checks/test?location=core");
    expect(sent.body).toEqual({ name: "shop", type: "http", url: "https://shop.example/" });
  });

  it("edits a heartbeat check in the form and the YAML tab, and shows its ping URL once created", async () => {
    const pingToken = `vhb_${"a".repeat(43)}`;
    stubApi((call) =>
      call.method === "POST" ? { status: 201, body: { id: "h1", ...(call.body as object), pingToken, pingUrl: `/hb/${pingToken}` } } : NO_SATELLITES,
    );
    const { onSaved } = renderEditor();
    fireEvent.change(screen.getByLabelText("Type"), { target: { value: "heartbeat" } });
    // A heartbeat check has no target, schedule nor place to run, and nothing to test.
    for (const probeOnly of ["URL", "Interval (s)", "Timeout (ms)", "Run on the core"]) expect(screen.queryByLabelText(probeOnly)).toBeNull();
    expect(screen.queryByRole("button", { name: "Test" })).toBeNull();
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "nightly backup" } });
    fireEvent.change(screen.getByLabelText("Expect a ping every (s)"), { target: { value: "86400" } });
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    const yaml = screen.getByLabelText("Definition (YAML)") as HTMLTextAreaElement;
    expect(fromYaml(yaml.value)).toEqual({ ok: true, draft: { name: "nightly backup", type: "heartbeat", periodSeconds: 86_400, graceSeconds: 300 } });
    fireEvent.change(yaml, { target: { value: yaml.value.replace("graceSeconds: 300", "graceSeconds: 3600") } });
    fireEvent.click(screen.getByRole("tab", { name: "Form" }));
    expect((screen.getByLabelText("Grace (s)") as HTMLInputElement).value).toBe("3600");
    expect((screen.getByLabelText("Expect a ping every (s)") as HTMLInputElement).value).toBe("86400");

    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    const shown = await screen.findByRole("status", { name: "New ping URL" });
    expect(calls.find((call) => call.method === "POST")!.body).toEqual({
      name: "nightly backup",
      type: "heartbeat",
      periodSeconds: 86_400,
      graceSeconds: 3_600,
    });
    expect(screen.getByLabelText("Ping URL").textContent).toBe(`${window.location.origin}/hb/${pingToken}`);
    expect(shown.textContent).toContain(`curl -fsS -m 10 --retry 3 ${window.location.origin}/hb/${pingToken}`);
    // The editor waits for the user to copy it: the URL is never shown again.
    expect(onSaved).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "I have copied it: open the check" }));
    expect(onSaved).toHaveBeenCalledWith(expect.not.objectContaining({ pingToken }));
    expect(onSaved.mock.calls[0]![0]).toMatchObject({ id: "h1", type: "heartbeat" });
  });

  it("creates the check and hands it on", async () => {
    stubApi((call) => (call.method === "POST" ? { status: 201, body: { id: "c1", name: "shop" } } : NO_SATELLITES));
    const { onSaved } = renderEditor({ name: "shop", type: "http", url: "https://shop.example/" });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith({ id: "c1", name: "shop" }));
  });
});
