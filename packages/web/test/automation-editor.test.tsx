// @vitest-environment happy-dom
// The automation YAML editor against a stubbed API: it sends the text as written with
// content-type application/yaml, shows each validation problem at its path, and a 401 on
// any call ends the session (back to Login).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { api, ApiError } from "../src/api/client.ts";
import { isSignedIn, onSignedOut } from "../src/auth.ts";
import { AutomationEditor } from "../src/features/automations/automation-editor.tsx";
import { automationDefinitionJsonSchema } from "@vantage/protocol";
import { signInForEachTest } from "./support/render-screen.tsx";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}
let calls: Call[] = [];

function stubApi(answer: (call: Call) => { status: number; body: unknown }) {
  calls = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const call = { url, method: init.method ?? "GET", headers: init.headers as Record<string, string>, body: init.body as string | undefined };
    calls.push(call);
    const { status, body } = answer(call);
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  });
}

const TRIGGERS = {
  status: 200,
  body: {
    triggers: [{ id: "satellite.disconnected", displayName: "Satellite disconnected", description: "A satellite's connection closed.", payloadSchema: {} }],
  },
};

function renderEditor(save = vi.fn(async (yaml: string) => api.automations.create(yaml))) {
  const onSaved = vi.fn();
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <AutomationEditor initialYaml={"name: first\n"} save={save} onSaved={onSaved} saveLabel="Create" />
    </QueryClientProvider>,
  );
  return { onSaved, save };
}

signInForEachTest();

describe("the automation editor", () => {
  it("shows each problem the core found at its path", async () => {
    stubApi((call) =>
      call.url.endsWith("/validate")
        ? {
            status: 200,
            body: {
              valid: false,
              errors: [
                { path: "triggers", message: "an automation needs at least one trigger" },
                { path: "actions.0.log.message", message: "Required" },
              ],
            },
          }
        : TRIGGERS,
    );
    renderEditor();
    fireEvent.click(screen.getByRole("button", { name: "Validate" }));
    const problems = await screen.findByRole("list", { name: "Problems" });
    expect(problems.textContent).toContain("triggers an automation needs at least one trigger");
    expect(problems.textContent).toContain("actions.0.log.message Required");
  });

  it("posts the YAML exactly as typed, as application/yaml with the admin token", async () => {
    const typed = "name: page ops\ntriggers:\n  - event: satellite.disconnected\nactions:\n  - log: { message: gone }  # why\n";
    stubApi((call) => (call.url === "/api/v1/automations" && call.method === "POST" ? { status: 201, body: { id: "a1", name: "page ops" } } : TRIGGERS));
    const { onSaved } = renderEditor();
    fireEvent.change(screen.getByLabelText("Definition (YAML)"), { target: { value: typed } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const post = calls.find((call) => call.method === "POST")!;
    expect(post.body).toBe(typed);
    expect(post.headers).toMatchObject({ "content-type": "application/yaml", authorization: "Bearer admin-token" });
  });

  it("shows a refused save with its problems, and clears it when the text changes", async () => {
    stubApi((call) =>
      call.method === "POST"
        ? {
            status: 400,
            body: {
              error: {
                code: "invalid_automation",
                message: "Invalid automation: mode: Invalid option.",
                details: { issues: [{ path: "mode", message: 'Invalid option: expected one of "single"|"restart"|"queued"|"parallel"' }] },
              },
            },
          }
        : TRIGGERS,
    );
    renderEditor();
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Not saved");
    expect(alert.textContent).toContain("mode Invalid option");
    fireEvent.change(screen.getByLabelText("Definition (YAML)"), { target: { value: "name: second\n" } });
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
  });
});

describe("checking against the published JSON Schema while typing", () => {
  it("shows each schema problem at its path and line, with no round trip to validate, and clears it once fixed", async () => {
    // The schema the core publishes at GET /automations/schema (automation-routes.ts answers this very object).
    const published = { status: 200, body: JSON.parse(JSON.stringify(automationDefinitionJsonSchema)) as unknown };
    stubApi((call) => (call.url === "/api/v1/automations/schema" ? published : TRIGGERS));
    renderEditor();
    const editor = screen.getByLabelText("Definition (YAML)");
    const head = "name: page ops\ntriggers:\n  - event: satellite.disconnected\nactions:\n";
    fireEvent.change(editor, { target: { value: `${head}  - delay: { duration: 31d }\n  - { id: second }\nowner: ops\n` } });
    // Loading Ajv and compiling the schema can take over a second on a busy machine: wait for the list, not a clock.
    const problems = await screen.findByRole("list", { name: "Schema problems" }, { timeout: 15_000 });
    expect([...problems.querySelectorAll("li")].map((item) => item.textContent)).toEqual([
      "line 5: actions.0.delay.duration matches none of the forms allowed here",
      "line 6: actions.1 must have exactly one of: log, webhook, notify, delay, wait_until, choose, parallel, stop",
      "line 7: owner is not a field here",
    ]);
    expect(editor.getAttribute("aria-invalid")).toBe("true");
    expect(calls.some((call) => call.url.endsWith("/validate"))).toBe(false);

    fireEvent.change(editor, { target: { value: `${head}  - delay: { duration: 30d }\n` } });
    await waitFor(() => expect(editor.getAttribute("aria-invalid")).toBe("false"), { timeout: 15_000 });
    expect(screen.queryByRole("list", { name: "Schema problems" })).toBeNull();
  });
});

describe("replaying the draft", () => {
  it("replays the YAML as written over the last 7 days and draws each would-be run on the timeline", async () => {
    const result = {
      from: "2026-11-25T00:00:00.000Z",
      to: "2026-12-02T00:00:00.000Z",
      changes: 1234,
      runs: 2,
      skips: 3,
      skipsByReason: { filter_false: 3 },
      days: [{ day: "2026-11-26", runs: 2, skips: 3 }],
      listedRuns: ["2026-11-26T10:00:00.000Z", "2026-11-26T11:00:00.000Z"].map((at, index) => ({
        id: `run-${index}`,
        at,
        trigger: { id: "trigger-0", event: "satellite.disconnected" },
        changeId: `c${index}`,
        entity: { kind: "satellite-connection", id: "s1" },
        status: "succeeded",
        steps: [],
      })),
      truncated: false,
      gaps: [],
    };
    stubApi((call) =>
      call.url === "/api/v1/automations/replay"
        ? { status: 202, body: { id: "r1", status: "running", progress: 0.25, changes: 10, result: null, error: null } }
        : call.url === "/api/v1/automations/replay/r1"
          ? { status: 200, body: { id: "r1", status: "succeeded", progress: 1, changes: 1234, result, error: null } }
          : TRIGGERS,
    );
    renderEditor();
    fireEvent.click(screen.getByRole("button", { name: "Replay last 7 days" }));
    const summary = await screen.findByText(/Would have run/);
    expect(summary.textContent).toContain("Would have run 2 time(s) in the last 7 days; skipped 3 (filter_false 3)");
    expect(screen.getAllByTestId("replay-run")).toHaveLength(2);
    expect(screen.getByRole("list", { name: "Per day" }).textContent).toContain("2026-11-26: 2 run(s), 3 skip(s)");
    const started = calls.find((call) => call.url === "/api/v1/automations/replay")!;
    const body = JSON.parse(started.body!) as { definition: string; from: string; to: string };
    expect(body.definition).toBe("name: first\n");
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(7 * 86_400_000);
  });
});

describe("the API client", () => {
  it("ends the session on a 401, so the app returns to Login", async () => {
    stubApi(() => ({ status: 401, body: { error: { code: "unauthorized", message: "The bearer token is not a valid admin token." } } }));
    const signedOut = vi.fn();
    const unsubscribe = onSignedOut(signedOut);
    await expect(api.satellites.list()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(isSignedIn()).toBe(false);
    expect(signedOut).toHaveBeenCalledTimes(1);
    unsubscribe();
  });

  it("turns an error answer into an ApiError with the core's code, message and issues", async () => {
    stubApi(() => ({
      status: 400,
      body: {
        error: {
          code: "invalid_input",
          message: "Invalid input: name: must not be empty.",
          details: { issues: [{ path: "name", message: "must not be empty" }] },
        },
      },
    }));
    const error = await api.satellites.create({ name: "", region: "eu" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "invalid_input", issues: [{ path: "name", message: "must not be empty" }] });
    expect(isSignedIn()).toBe(true);
  });
});
