// @vitest-environment happy-dom
// The role-aware screens against a stubbed API: Settings (users and API tokens) for an admin,
// a secret shown once when created, and nothing to manage for others; Notifications (a channel
// created with its type's fields, a test delivery's outcome, an edit that keeps the secret it
// was not given); Maintenance (a weekly window by labels, an edit sent whole with its revision);
// channels and windows a config bundle manages (marked; an edit asks, then warns); and what a
// viewer does not see: no create, edit or delete buttons.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { editedWindow, MaintenancePage, parseLabels, windowInput } from "../src/features/maintenance/maintenance-page.tsx";
import { channelFields, channelPatch, ChannelsPage } from "../src/features/notifications/channels-page.tsx";
import { SettingsPage } from "../src/features/settings/settings-page.tsx";
import { SatellitesPage } from "../src/features/satellites/satellites-page.tsx";
import { permissionsOf } from "../src/permissions.ts";
import { me, renderScreen, signInForEachTest } from "./support/render-screen.tsx";

const USER = { id: "u1", email: "ops@example.com", role: "admin", disabled: false, createdAt: "2030-01-01T00:00:00Z", lastLoginAt: null };
const CHANNEL = {
  id: "ch1",
  name: "ops-webhook",
  type: "webhook",
  config: { url: "https://hooks.example.com/vantage" },
  secretsSet: ["secret"],
  createdAt: "2030-01-01T00:00:00Z",
  updatedAt: "2030-01-01T00:00:00Z",
};
const WINDOW = {
  id: "w1",
  name: "db upgrade",
  checks: { labels: { team: "db" } },
  start: "2030-01-01T10:00:00Z",
  end: "2030-01-01T11:00:00Z",
  recurrence: { frequency: "weekly", timeZone: "UTC" },
  active: true,
  occurrence: { start: "2030-01-01T10:00:00Z", end: "2030-01-01T11:00:00Z" },
  revision: 1,
  createdAt: "2030-01-01T00:00:00Z",
  updatedAt: "2030-01-01T00:00:00Z",
};

signInForEachTest();

describe("Settings", () => {
  it("lets an admin add a user and create an API token, showing the token once", async () => {
    const tokens: unknown[] = [];
    const calls = renderScreen(<SettingsPage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("admin");
      if (call.url === "/api/v1/users" && call.method === "GET") return { status: 200, body: { users: [USER] } };
      if (call.url === "/api/v1/users" && call.method === "POST")
        return { status: 201, body: { ...USER, id: "u2", email: "new@example.com", role: "viewer", password: "generated-pass-123" } };
      if (call.url === "/api/v1/tokens" && call.method === "GET") return { status: 200, body: { tokens } };
      if (call.url === "/api/v1/tokens" && call.method === "POST") {
        const token = {
          id: "t1",
          name: "ci",
          role: "editor",
          createdBy: { type: "token", id: "admin" },
          createdAt: "2030-01-01T00:00:00Z",
          expiresAt: null,
          lastUsedAt: null,
        };
        tokens.push(token);
        return { status: 201, body: { ...token, token: "vtk_secret" } };
      }
      return undefined;
    });
    const users = await screen.findByRole("table", { name: "Users" });
    expect(users.textContent).toContain("ops@example.com");
    const newUser = screen.getByRole("form", { name: "New user" });
    fireEvent.change(within(newUser).getByLabelText("E-mail"), { target: { value: "new@example.com" } });
    fireEvent.submit(newUser);
    expect((await within(newUser).findByLabelText("Password", { selector: "pre" })).textContent).toBe("generated-pass-123");
    expect(JSON.parse(calls.find((call) => call.url === "/api/v1/users" && call.method === "POST")!.body!)).toEqual({
      email: "new@example.com",
      role: "viewer",
    });

    const newToken = screen.getByRole("form", { name: "New API token" });
    fireEvent.change(within(newToken).getByLabelText("Token name"), { target: { value: "ci" } });
    fireEvent.change(within(newToken).getByLabelText("Token role"), { target: { value: "editor" } });
    fireEvent.submit(newToken);
    expect((await within(newToken).findByLabelText("API token", { selector: "pre" })).textContent).toBe("vtk_secret");
    expect((await screen.findByRole("table", { name: "API tokens" })).textContent).toContain("ci");
  });

  it("shows users and tokens to admins only", async () => {
    const calls = renderScreen(<SettingsPage />, (call) => (call.url === "/api/v1/auth/me" ? me("editor") : undefined));
    await screen.findByText(/managed by admins; you are signed in as editor/);
    expect(calls.map((call) => call.url)).toEqual(["/api/v1/auth/me"]);
  });
});

describe("Notifications", () => {
  it("creates a webhook channel from its fields and shows what a test delivery found", async () => {
    const calls = renderScreen(<ChannelsPage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("editor");
      if (call.url === "/api/v1/notification-channels" && call.method === "GET") return { status: 200, body: { channels: [CHANNEL] } };
      if (call.url === "/api/v1/notification-channels" && call.method === "POST") return { status: 201, body: CHANNEL };
      if (call.url === "/api/v1/notification-channels/ch1/test")
        return { status: 200, body: { ok: false, status: 500, error: "hooks.example.com answered 500", retryable: true } };
      return undefined;
    });
    const row = (await screen.findByRole("table", { name: "Channels" })).querySelector("tbody tr")!;
    expect(row.textContent).toContain("https://hooks.example.com/vantage");
    expect(row.textContent).toContain("secrets set: secret");
    fireEvent.click(await within(row as HTMLElement).findByRole("button", { name: "Send test" }));
    expect((await screen.findByRole("status", { name: "Test delivery" })).textContent).toContain(
      "failed answered 500 hooks.example.com answered 500 (may work later)",
    );

    fireEvent.click(screen.getByRole("button", { name: "New channel" }));
    const form = screen.getByRole("form", { name: "New channel" });
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "ops-mail" } });
    fireEvent.change(within(form).getByLabelText("Type"), { target: { value: "email" } });
    fireEvent.change(within(form).getByLabelText("SMTP host"), { target: { value: "smtp.example.com" } });
    fireEvent.change(within(form).getByLabelText("From"), { target: { value: "alerts@example.com" } });
    fireEvent.change(within(form).getByLabelText("To (comma separated)"), { target: { value: "a@example.com, b@example.com" } });
    fireEvent.submit(form);
    await waitFor(() => expect(calls.some((call) => call.method === "POST" && call.url === "/api/v1/notification-channels")).toBe(true));
    expect(JSON.parse(calls.find((call) => call.method === "POST" && call.url === "/api/v1/notification-channels")!.body!)).toEqual({
      name: "ops-mail",
      type: "email",
      config: { host: "smtp.example.com", port: 587, secure: false, from: "alerts@example.com", to: ["a@example.com", "b@example.com"] },
    });
  });
});

describe("Notifications, editing", () => {
  it("shows a channel's settings in the form, keeps the secret left blank, and sends only what the form holds", async () => {
    const calls = renderScreen(<ChannelsPage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("editor");
      if (call.url === "/api/v1/notification-channels" && call.method === "GET") return { status: 200, body: { channels: [CHANNEL] } };
      if (call.url === "/api/v1/notification-channels/ch1" && call.method === "PATCH") return { status: 200, body: CHANNEL };
      return undefined;
    });
    fireEvent.click(await screen.findByRole("button", { name: "Edit ops-webhook" }));
    const form = screen.getByRole("form", { name: "Edit channel" });
    expect((within(form).getByLabelText("URL") as HTMLInputElement).value).toBe("https://hooks.example.com/vantage");
    expect((within(form).getByLabelText("Type") as HTMLSelectElement).disabled).toBe(true);
    const secret = within(form).getByLabelText("Signing secret (optional)") as HTMLInputElement;
    expect(secret.value).toBe("");
    expect(secret.placeholder).toContain("leave blank to keep");
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "ops-hook" } });
    fireEvent.submit(form);
    await waitFor(() => expect(calls.some((call) => call.method === "PATCH")).toBe(true));
    expect(JSON.parse(calls.find((call) => call.method === "PATCH")!.body!)).toEqual({
      name: "ops-hook",
      config: { url: "https://hooks.example.com/vantage" },
    });
    await waitFor(() => expect(screen.queryByRole("form", { name: "Edit channel" })).toBeNull());
  });

  it("turns an e-mail channel's settings into fields and back, clearing an emptied username", () => {
    const mail = {
      type: "email" as const,
      name: "mail",
      config: { host: "smtp.example.com", port: 465, secure: true, username: "bot", from: "a@example.com", to: ["b@example.com", "c@example.com"] },
    };
    const { fields, secure } = channelFields(mail);
    expect(fields).toEqual({ host: "smtp.example.com", port: "465", username: "bot", from: "a@example.com", to: "b@example.com, c@example.com" });
    expect(secure).toBe(true);
    expect(channelPatch(mail, "mail", { ...fields, username: "" }, secure)).toEqual({
      config: { host: "smtp.example.com", port: 465, secure: true, username: null, from: "a@example.com", to: ["b@example.com", "c@example.com"] },
    });
    expect(channelPatch(mail, "mail", { ...fields, password: "new-password" }, secure).config).toMatchObject({ password: "new-password", username: "bot" });
  });
});

describe("channels and windows a config bundle manages", () => {
  const owners = (kind: string, id: string) => ({
    status: 200,
    body: { owners: [{ kind, id, bundle: "gitops", name: "x", appliedAt: "2030-01-01T00:00:00Z" }] },
  });

  it("are marked with their bundle, and an edit asks first and then warns that it is drift", async () => {
    const asked: string[] = [];
    let agree = false;
    vi.stubGlobal("confirm", (question: string) => (asked.push(question), agree));
    renderScreen(<ChannelsPage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("editor");
      if (call.url === "/api/v1/config/owners?kind=NotificationChannel") return owners("NotificationChannel", "ch1");
      if (call.url === "/api/v1/notification-channels" && call.method === "GET") return { status: 200, body: { channels: [CHANNEL] } };
      return undefined;
    });
    const row = await screen.findByRole("row", { name: /ops-webhook/ });
    await within(row).findByText("managed by gitops");
    fireEvent.click(within(row).getByRole("button", { name: "Edit ops-webhook" }));
    expect(asked[0]).toMatch(/managed by the config bundle "gitops"/);
    expect(screen.queryByRole("form", { name: "Edit channel" })).toBeNull();
    agree = true;
    fireEvent.click(within(row).getByRole("button", { name: "Edit ops-webhook" }));
    expect(within(screen.getByRole("form", { name: "Edit channel" })).getByRole("note").textContent).toMatch(
      /notification channel is managed by the config bundle "gitops"/,
    );
  });

  it("mark a maintenance window too", async () => {
    vi.stubGlobal("confirm", () => true);
    renderScreen(<MaintenancePage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("editor");
      if (call.url === "/api/v1/config/owners?kind=MaintenanceWindow") return owners("MaintenanceWindow", "w1");
      if (call.url.startsWith("/api/v1/maintenance-windows")) return { status: 200, body: { windows: [WINDOW], nextCursor: null } };
      return undefined;
    });
    const row = await screen.findByRole("row", { name: /db upgrade/ });
    await within(row).findByText("managed by gitops");
    fireEvent.click(within(row).getByRole("button", { name: "Edit db upgrade" }));
    expect(within(screen.getByRole("form", { name: "Edit maintenance window" })).getByRole("note").textContent).toMatch(/maintenance window is managed/);
  });
});

describe("Maintenance, editing", () => {
  it("edits a window in the form and sends it whole with the revision it read", async () => {
    const calls = renderScreen(<MaintenancePage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("editor");
      if (call.url === "/api/v1/maintenance-windows/w1" && call.method === "PUT") return { status: 200, body: WINDOW };
      if (call.url.startsWith("/api/v1/maintenance-windows")) return { status: 200, body: { windows: [WINDOW], nextCursor: null } };
      return undefined;
    });
    fireEvent.click(await screen.findByRole("button", { name: "Edit db upgrade" }));
    const form = screen.getByRole("form", { name: "Edit maintenance window" });
    expect((within(form).getByLabelText("Checks with labels") as HTMLInputElement).value).toBe("team=db");
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "db upgrade, part 2" } });
    fireEvent.submit(form);
    await waitFor(() => expect(calls.some((call) => call.method === "PUT")).toBe(true));
    expect(JSON.parse(calls.find((call) => call.method === "PUT")!.body!)).toEqual({
      name: "db upgrade, part 2",
      checks: { labels: { team: "db" } },
      start: "2030-01-01T10:00:00.000Z",
      end: "2030-01-01T11:00:00.000Z",
      recurrence: { frequency: "weekly", timeZone: "UTC" },
      revision: 1,
    });
  });

  it("keeps what the form does not show: checks named by id, the description, the recurrence's zone", () => {
    const stored = {
      ...WINDOW,
      description: "why",
      checks: { ids: ["c1"], labels: { team: "db" } },
      recurrence: { frequency: "weekly" as const, timeZone: "Asia/Tokyo" },
    };
    const form = { name: "n", labels: "", start: "2030-01-01T10:00:00Z", end: "2030-01-01T11:00:00Z", weekly: true };
    expect(editedWindow(stored, form, "Europe/Berlin")).toMatchObject({
      description: "why",
      checks: { ids: ["c1"] },
      recurrence: { frequency: "weekly", timeZone: "Asia/Tokyo" },
      revision: 1,
    });
    expect(editedWindow(stored, form, "Europe/Berlin").checks).not.toHaveProperty("labels");
    expect(editedWindow(stored, { ...form, weekly: false }, "Europe/Berlin")).not.toHaveProperty("recurrence");
  });
});

describe("Maintenance", () => {
  it("lists windows with whether they are on, and turns the form into a window by labels", async () => {
    renderScreen(<MaintenancePage />, (call) => {
      if (call.url === "/api/v1/auth/me") return me("editor");
      if (call.url.startsWith("/api/v1/maintenance-windows")) return { status: 200, body: { windows: [WINDOW], nextCursor: null } };
      return undefined;
    });
    const table = await screen.findByRole("table", { name: "Maintenance windows" });
    expect(table.textContent).toContain("db upgrade");
    expect(table.textContent).toContain("on now");
    expect(table.textContent).toContain("checks labelled team=db");
    expect(table.textContent).toContain("weekly (UTC)");
    await screen.findByRole("button", { name: "New window" });
    expect(parseLabels(" env=prod, team = db ,")).toEqual({ env: "prod", team: "db" });
    expect(windowInput({ name: "w", labels: "team=db", start: "2030-01-01T10:00:00Z", end: "2030-01-01T11:00:00Z", weekly: true }, "Europe/Berlin")).toEqual({
      name: "w",
      checks: { labels: { team: "db" } },
      start: "2030-01-01T10:00:00.000Z",
      end: "2030-01-01T11:00:00.000Z",
      recurrence: { frequency: "weekly", timeZone: "Europe/Berlin" },
    });
  });
});

describe("a viewer", () => {
  it("sees no create, edit or delete buttons", async () => {
    expect(permissionsOf("viewer")).toEqual({ role: "viewer", canEdit: false, isAdmin: false });
    expect(permissionsOf("editor")).toEqual({ role: "editor", canEdit: true, isAdmin: false });
    expect(permissionsOf(null)).toEqual({ role: null, canEdit: false, isAdmin: false });
    renderScreen(
      <>
        <SatellitesPage />
        <MaintenancePage />
        <ChannelsPage />
      </>,
      (call) => {
        if (call.url === "/api/v1/auth/me") return me("viewer");
        if (call.url.startsWith("/api/v1/satellites")) return { status: 200, body: { satellites: [], next: null } };
        if (call.url.startsWith("/api/v1/maintenance-windows")) return { status: 200, body: { windows: [WINDOW], nextCursor: null } };
        if (call.url.startsWith("/api/v1/notification-channels")) return { status: 200, body: { channels: [CHANNEL] } };
        return undefined;
      },
    );
    await screen.findByRole("table", { name: "Maintenance windows" });
    await screen.findByRole("table", { name: "Channels" });
    await waitFor(() => expect(document.body.textContent).toContain("No satellites yet"));
    expect(screen.queryAllByRole("button")).toEqual([]);
  });
});
