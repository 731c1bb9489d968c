// @vitest-environment happy-dom
// The role-aware screens against a stubbed API: Settings (users and API tokens) for an admin,
// a secret shown once when created, and nothing to manage for others; Notifications (a channel
// created with its type's fields, a test delivery's outcome); Maintenance (a weekly window by
// labels); and what a viewer does not see: no create, edit or delete buttons.
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signInWithToken } from "../src/auth.ts";
import { MaintenancePage, parseLabels, windowInput } from "../src/features/maintenance/maintenance-page.tsx";
import { ChannelsPage } from "../src/features/notifications/channels-page.tsx";
import { SettingsPage } from "../src/features/settings/settings-page.tsx";
import { SatellitesPage } from "../src/features/satellites/satellites-page.tsx";
import { permissionsOf } from "../src/permissions.ts";
import { me, renderScreen } from "./support/render-screen.tsx";

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

beforeEach(() => signInWithToken("admin-token"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

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
