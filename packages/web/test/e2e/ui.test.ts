// The web UI end to end: Debian's Chromium (driven by playwright-core, never a downloaded
// browser) against a real core on the embedded PostgreSQL, serving the UI built from this
// source. Signs in with an e-mail and password (a session cookie; the admin token on the phone),
// registers a satellite and starts a real agent
// in-process (it turns online without a reload; its detail shows its connection history), writes an automation in the YAML editor (its
// problems shown at their paths first), sees it listed, runs it and edits it; on the Overview,
// sees the run a reconnecting satellite's disconnect fires appear and end live; writes an http
// check against a local server in the check editor (tested before it is saved), sees it turn
// healthy on the list and, once the server stops, unhealthy — live, without a reload — with its
// uptime bar over 24 h or 90 d, and runs
// it now from its detail screen with the incident and the health's history; sees the latest
// events on the Overview; adds a viewer in Settings, a channel (tested) and a maintenance
// window (each then edited); writes a heartbeat check, reads its ping URL once, pings it and sees
// it turn healthy on the list, live; and, signed in as that viewer, finds no edit buttons. Each screen is saved as a screenshot under artifacts/web/
// (gitignored) for people to look at.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EntityChanged } from "@vantage/protocol";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../server/src/log.ts";
import { type Core, startCore } from "../../../server/src/main.ts";
import { createTestDatabase } from "../../../server/test/support/database.ts";
import { createSignal, waitFor } from "../../../server/test/support/instance.ts";
import { loadSatelliteConfig } from "../../../satellite/src/config.ts";
import { run } from "../../../satellite/src/main.ts";
import { captureLogs } from "../../../satellite/test/support/capture-logs.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const WEB_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../../../../artifacts/web/", import.meta.url));
const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
const EMAIL = "ops@example.com";
const PASSWORD = "e2e password of the ops user";
const VIEWER_EMAIL = "viewer@example.com";

let core: Core;
let dataDir: string;
let browser: Browser;
const changes: EntityChanged[] = [];
const changed = createSignal();

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's with 'apt-get install -y chromium' (.ci/run does), or set CHROMIUM_PATH.`);
  // npm install builds the UI into the folder the core serves; build it here only where it is
  // missing (after changing the UI, `npm run build`): rebuilding would empty that folder under
  // other test files' cores running at the same time.
  if (!existsSync(join(WEB_ROOT, "dist", "index.html"))) await build({ root: WEB_ROOT, configFile: join(WEB_ROOT, "vite.config.ts"), logLevel: "error" });
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(os.tmpdir(), "vantage-e2e-"));
  const database = await createTestDatabase();
  core = await startCore(
    {
      host: "127.0.0.1",
      port: 0,
      databaseUrl: database.url,
      dataDir,
      adminToken: ADMIN_TOKEN,
      heartbeatIntervalMs: 500,
      allowPrivateTargets: true,
      // Notification channels keep their secrets encrypted: a core with a database URL needs the key.
      secretKey: Buffer.alloc(32, 7),
    },
    silentLogger(),
  );
  // The first user, made as the README says: through the API with the admin token.
  const created = await fetch(`${core.url}/api/v1/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, role: "admin", password: PASSWORD }),
  });
  if (created.status !== 201) throw new Error(`creating the e2e user answered ${created.status}: ${await created.text()}`);
  core.liveFeed.subscribe((change) => {
    changes.push(change);
    changed.emit();
  });
  // As root (CI) Chromium's sandbox cannot start; the page is our own UI.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await core?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A local target for an http check: answers 200 until closed. */
async function startTarget(): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

const shoot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe("the web UI in Chromium", () => {
  it("signs in, registers a satellite that turns online, writes, lists and runs an automation, and follows a check's health live", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
    // Each wait is for something that does happen; a loaded CI machine may take a while.
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    // Signed out, any screen leads to Login, and back to that screen after signing in.
    await page.goto(`${core.url}/satellites`);
    await page.getByLabel("E-mail").waitFor();
    expect(new URL(page.url()).pathname).toBe("/login");
    await shoot(page, "01-login");
    await page.getByLabel("E-mail").fill(EMAIL);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText("Wrong e-mail or password, or the account is disabled.").waitFor();
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Satellites" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/satellites");
    // Keyboard first: the first Tab offers to skip the navigation, the next reach its links.
    await page.locator("body").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Overview");

    // Register a satellite: its token and start command are shown once.
    await page.getByRole("button", { name: "New satellite" }).click();
    await page.getByLabel("Name").fill("fra-1");
    await page.getByLabel("Region").fill("eu-central");
    await page.getByLabel("Tags (comma separated, optional)").fill("dmz, ipv6");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    const token = (await page.getByLabel("Token", { exact: true }).textContent())!;
    const command = (await page.getByLabel("Start command").textContent())!;
    expect(token).toMatch(/^vsat_/);
    expect(command).toContain(`VANTAGE_URL=${core.url}`);
    expect(command).toContain(`VANTAGE_SATELLITE_TOKEN=${token}`);
    expect(command).toContain("npx --no -- vantage-satellite");
    const satelliteId = /VANTAGE_SATELLITE_ID=(\S+)/.exec(command)![1]!;
    await expect(page.getByRole("row", { name: /fra-1/ }).textContent()).resolves.toContain("never connected");
    await shoot(page, "02-satellite-created");

    // A real agent with those credentials: once the core has it online, a reload shows it so.
    const onlineChanges = () =>
      changes.filter((change) => change.id === satelliteId && (change.next as { status?: string } | null)?.status === "online").length;
    const stopper = new AbortController();
    const agentConfig = loadSatelliteConfig({ VANTAGE_URL: core.url, VANTAGE_SATELLITE_ID: satelliteId, VANTAGE_SATELLITE_TOKEN: token });
    const agent = run(agentConfig, { logger: captureLogs().logger, random: () => 0, signal: stopper.signal, stopOnSignals: [] });
    try {
      await waitFor(() => onlineChanges() >= 1, changed.subscribe, 20_000, "the satellite online");
      // Live: the list turns it online without a reload.
      const row = page.getByRole("row", { name: /fra-1/ });
      await row.getByText("online").waitFor();
      await page.getByRole("button", { name: "I have copied it" }).click();
      expect(await row.textContent()).toContain("eu-central");
      await shoot(page, "03-satellites-online");

      await row.getByRole("link", { name: "fra-1" }).click();
      await page.getByRole("heading", { name: /fra-1/ }).waitFor();
      expect(await page.locator("dl.facts").textContent()).toContain("dmz, ipv6");
      // Its connection history (the satellite-connection entity's changes) and the checks it runs (none yet).
      await page.getByRole("list", { name: "Connection changes" }).getByText("connected").first().waitFor();
      await page
        .getByRole("region", { name: "Checks it runs" })
        .getByText(/No enabled check selects this satellite/)
        .waitFor();
      await shoot(page, "04-satellite-detail");
    } finally {
      stopper.abort();
      expect(await agent).toEqual({ exitCode: 0, reason: "stopped" });
    }

    // An automation in the YAML editor: problems at their paths, then saved, listed and run.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Automations" }).click();
    await page.getByRole("link", { name: "New automation" }).click();
    const editor = page.getByLabel("Definition (YAML)");
    await editor.fill("name: broken\ntriggers: []\nactions:\n  - log: {}\n");
    // The published JSON Schema, checked in the browser while typing, before any Validate.
    const schemaProblems = page.getByRole("list", { name: "Schema problems" });
    await schemaProblems.waitFor();
    expect(await schemaProblems.textContent()).toContain("line 2: triggers");
    expect(await schemaProblems.textContent()).toContain("line 4: actions.0.log.message is required");
    await page.getByRole("button", { name: "Validate" }).click();
    const problems = page.getByRole("list", { name: "Problems", exact: true });
    await problems.waitFor();
    expect(await problems.textContent()).toContain("triggers");
    expect(await problems.textContent()).toContain("actions.0.log");
    await shoot(page, "05-automation-editor-problems");

    await editor.fill(
      'name: note disconnects\ndescription: Logs each satellite that disconnects.\ntriggers:\n  - event: satellite.disconnected\nmode: parallel\nactions:\n  - delay:\n      duration: 2s\n  - log:\n      message: "{{ trigger.payload.name }} disconnected"\n',
    );
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: /note disconnects/ }).waitFor();
    await page.getByRole("link", { name: "← Automations" }).click();
    const listed = page.getByRole("row", { name: /note disconnects/ });
    await listed.waitFor();
    expect(await listed.textContent()).toContain("satellite.disconnected");
    await shoot(page, "06-automations");

    await listed.getByRole("link", { name: "note disconnects" }).click();
    await page.getByRole("button", { name: "Run now" }).click();
    await page.getByRole("list", { name: "Trace" }).waitFor();
    expect(await page.getByRole("list", { name: "Trace" }).textContent()).toContain("manual");
    await shoot(page, "07-run-trace");
    await page.getByRole("link", { name: "← Automation" }).click();
    await page.getByRole("tab", { name: "Definition" }).click();
    const stored = await page.getByLabel("Definition (YAML)").inputValue();
    expect(stored).toContain("name: note disconnects");
    await shoot(page, "08-automation-definition");
    // What the core answered, edited and saved back, is the next version.
    await page.getByLabel("Definition (YAML)").fill(stored.replace("Logs each satellite that disconnects.", "Logs every disconnect."));
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("version 2").waitFor();
    await page.getByText("Logs every disconnect.", { exact: true }).waitFor();

    // The Overview follows the runs a change fires as they go: the satellite connects and
    // disconnects again, and the run of "note disconnects" it fires turns up under that event and
    // ends (after its 2 s delay) while the page stays open. Nothing else changes meanwhile (no
    // check exists yet), so only the run's own events can bring its end to the page.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    const feed = page.getByRole("list", { name: "Latest events" });
    await feed.waitFor();
    const again = new AbortController();
    const agentAgain = run(agentConfig, { logger: captureLogs().logger, random: () => 0, signal: again.signal, stopOnSignals: [] });
    try {
      await waitFor(() => onlineChanges() >= 2, changed.subscribe, 20_000, "the satellite online again");
    } finally {
      again.abort();
      expect(await agentAgain).toEqual({ exitCode: 0, reason: "stopped" });
    }
    // Parallel: the manual run above may still be in its delay (a single automation would skip this one as busy).
    const firedRun = feed.getByRole("list", { name: "Automations it fired" }).getByRole("listitem").filter({ hasText: "started note disconnects" }).first();
    await firedRun.waitFor();
    await firedRun.filter({ hasText: "(satellite.disconnected, succeeded)" }).waitFor();
    await shoot(page, "08b-overview-run-live");

    // A check written in the editor, tested before it is saved, turns healthy on the list and,
    // once its target stops, unhealthy — both live, without a reload.
    const target = await startTarget();
    try {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Checks" }).click();
      await page.getByText("No checks yet").waitFor();
      await page.getByRole("link", { name: "New check" }).click();
      await page.getByLabel("Name", { exact: true }).fill("local web");
      await page.getByLabel("URL").fill(target.url);
      await page.getByLabel("Interval (s)").fill("10");
      await page.getByLabel("Timeout (ms)").fill("2000");
      await page.getByLabel("Failures before unhealthy").fill("1");
      await page.getByLabel("Labels").fill("env=e2e");
      await page.getByRole("button", { name: "Test" }).click();
      const tested = page.getByRole("region", { name: "Test result" });
      await tested.getByText("up", { exact: true }).waitFor();
      await page.getByRole("tab", { name: "YAML" }).click();
      const yaml = await page.getByLabel("Definition (YAML)").inputValue();
      expect(yaml).toContain(`url: ${target.url}`);
      expect(yaml).toContain("failuresToUnhealthy: 1");
      await shoot(page, "12-check-editor-yaml");
      await page.getByRole("tab", { name: "Form" }).click();
      await shoot(page, "13-check-editor-tested");
      await page.getByRole("button", { name: "Create" }).click();
      await page.getByRole("heading", { name: /local web/ }).waitFor();

      await page.getByRole("link", { name: "← Checks" }).click();
      const checkRow = page.getByRole("row", { name: /local web/ });
      await checkRow.locator(".badge", { hasText: /^healthy$/ }).waitFor();
      expect(await checkRow.textContent()).toContain(target.url);
      await checkRow.getByRole("img", { name: /24 h uptime/ }).waitFor();
      await shoot(page, "14-checks-healthy");

      await new Promise<void>((resolve) => {
        target.server.close(() => resolve());
        target.server.closeAllConnections();
      });
      await checkRow.locator(".badge", { hasText: /^unhealthy$/ }).waitFor();
      await shoot(page, "15-checks-unhealthy");
      // Filters live in the URL.
      await page.getByLabel("Name starts with").fill("nothing-");
      await page.getByText("No check matches these filters.").waitFor();
      expect(new URL(page.url()).searchParams.get("q")).toBe("nothing-");
      await page.getByLabel("Name starts with").fill("");
      await checkRow.waitFor();
      // The bars over 90 days (the day rollups), a choice kept in the URL, and back.
      await page.getByRole("radio", { name: "90 d" }).check();
      await checkRow.getByRole("img", { name: /^90 d uptime/ }).waitFor();
      expect(new URL(page.url()).searchParams.get("bars")).toBe("90d");
      await shoot(page, "15b-checks-90d");
      await page.getByRole("radio", { name: "24 h" }).check();
      await checkRow.getByRole("img", { name: /^24 h uptime/ }).waitFor();

      await checkRow.getByRole("link", { name: "local web" }).click();
      await page
        .getByRole("region", { name: "Recent failures" })
        .locator(".badge", { hasText: /^down$/ })
        .first()
        .waitFor();
      await page.getByRole("button", { name: "Run now" }).click();
      await page.getByRole("region", { name: "Run now" }).getByLabel("Probe result").waitFor();
      expect(await page.getByRole("region", { name: "Run now" }).textContent()).toContain("down");
      // The incident it is in, and why: its health's history from healthy to unhealthy.
      await page.getByRole("list", { name: "Incidents" }).getByText("ongoing").waitFor();
      await page
        .getByRole("list", { name: "Health changes" })
        .getByText(/healthy\s*→\s*unhealthy/)
        .first()
        .waitFor();
      await shoot(page, "16-check-detail");
    } finally {
      target.server.close();
    }

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    await page.getByText("Satellites online").waitFor();
    // The check the stopped server made unhealthy is counted and listed first.
    await page.getByRole("region", { name: "Needs attention" }).getByRole("link", { name: "local web" }).waitFor();
    expect(await page.getByRole("link", { name: "Checks unhealthy" }).textContent()).toContain("1 / 1");
    // The latest events: the check's turn to unhealthy and the satellite's connection.
    const events = page.getByRole("list", { name: "Latest events" });
    await events.getByRole("link", { name: "local web" }).first().waitFor();
    await events.getByRole("link", { name: "fra-1" }).first().waitFor();
    await shoot(page, "09-overview");

    // A heartbeat check written in the editor shows its ping URL once; a real ping to the core
    // (as a job's curl would send) turns it healthy on the list, live.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Checks" }).click();
    await page.getByRole("link", { name: "New check" }).click();
    await page.getByLabel("Type").selectOption("heartbeat");
    await page.getByLabel("Name", { exact: true }).fill("nightly backup");
    await page.getByLabel("Expect a ping every (s)").fill("86400");
    await page.getByRole("button", { name: "Create" }).click();
    const pingShown = page.getByRole("status", { name: "New ping URL" });
    const pingUrl = (await pingShown.getByLabel("Ping URL").textContent()) ?? "";
    expect(pingUrl).toMatch(new RegExp(`^${core.url}/hb/vhb_[A-Za-z0-9_-]+$`));
    expect(await pingShown.textContent()).toContain(`curl -fsS -m 10 --retry 3 ${pingUrl}`);
    await shoot(page, "13b-heartbeat-ping-url");
    await pingShown.getByRole("button", { name: "I have copied it: open the check" }).click();
    await page.getByRole("heading", { name: /nightly backup/ }).waitFor();
    await page.getByRole("region", { name: "Pings" }).waitFor();
    await page.getByRole("link", { name: "← Checks" }).click();
    const heartbeatRow = page.getByRole("row", { name: /nightly backup/ });
    await heartbeatRow.waitFor();
    expect(await heartbeatRow.locator(".badge", { hasText: /^healthy$/ }).count()).toBe(0);
    const pinged = await fetch(pingUrl);
    expect(pinged.status).toBe(200);
    expect(await pinged.text()).toBe("OK\n");
    await heartbeatRow.locator(".badge", { hasText: /^healthy$/ }).waitFor();
    await heartbeatRow.getByRole("img", { name: /24 h uptime/ }).waitFor();
    await shoot(page, "14b-checks-heartbeat-healthy");

    // Settings: a viewer added (signs in below), a webhook channel tested, a maintenance window planned.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    const newUser = page.getByRole("form", { name: "New user" });
    await newUser.getByLabel("E-mail").fill(VIEWER_EMAIL);
    await newUser.getByLabel("Password (optional: generated)").fill(PASSWORD);
    await newUser.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("table", { name: "Users" }).getByText(VIEWER_EMAIL).waitFor();
    await shoot(page, "20-settings");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications" }).click();
    await page.getByRole("button", { name: "New channel" }).click();
    await page.getByLabel("Name").fill("ops-webhook");
    await page.getByLabel("URL").fill(`${core.url}/healthz`);
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("button", { name: "Send test" }).click();
    await page.getByRole("status", { name: "Test delivery" }).waitFor();
    await page.getByRole("button", { name: "Edit ops-webhook" }).click();
    await page.getByLabel("URL").fill(`${core.url}/readyz`);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("table", { name: "Channels" }).getByText(`${core.url}/readyz`).waitFor();
    await shoot(page, "21-notifications");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Maintenance" }).click();
    await page.getByRole("button", { name: "New window" }).click();
    await page.getByLabel("Name").fill("e2e upgrade");
    await page.getByLabel("Checks with labels").fill("env=e2e");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("table", { name: "Maintenance windows" }).getByText("checks labelled env=e2e").waitFor();
    await page.getByRole("button", { name: "Edit e2e upgrade" }).click();
    await page.getByLabel("Name").fill("e2e upgrade, moved");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("table", { name: "Maintenance windows" }).getByText("e2e upgrade, moved").waitFor();
    await shoot(page, "22-maintenance");

    // The same screens on a phone, in the dark theme.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark", isMobile: true });
    phone.setDefaultTimeout(60_000);
    const phonePage = await phone.newPage();
    await phonePage.goto(`${core.url}/login`);
    await phonePage.getByRole("button", { name: "Sign in with the admin token instead" }).click();
    await phonePage.getByLabel("Admin token").fill("not-the-admin-token");
    await phonePage.getByRole("button", { name: "Sign in", exact: true }).click();
    await phonePage.getByText("That is not the admin token of this core.").waitFor();
    await phonePage.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await phonePage.getByRole("button", { name: "Sign in", exact: true }).click();
    await phonePage.getByText("Satellites online").waitFor();
    await phonePage.getByRole("region", { name: "Needs attention" }).getByRole("link", { name: "local web" }).waitFor();
    await shoot(phonePage, "19-phone-dark-overview");
    await phonePage.goto(`${core.url}/satellites`);
    await phonePage.getByRole("link", { name: "fra-1" }).waitFor();
    await shoot(phonePage, "10-phone-dark-satellites");
    await phonePage.goto(`${core.url}/automations`);
    await phonePage.getByRole("link", { name: "note disconnects" }).waitFor();
    await shoot(phonePage, "11-phone-dark-automations");
    await phonePage.goto(`${core.url}/checks`);
    await phonePage.getByRole("link", { name: "local web" }).waitFor();
    await phonePage
      .getByRole("row", { name: /local web/ })
      .getByRole("img", { name: /24 h uptime/ })
      .waitFor();
    await shoot(phonePage, "17-phone-dark-checks");
    await phonePage.getByRole("link", { name: "local web" }).click();
    await phonePage.getByRole("region", { name: "Recent failures" }).waitFor();
    await shoot(phonePage, "18-phone-dark-check-detail");
    for (const [path, name] of [
      ["/settings", "23-phone-dark-settings"],
      ["/notifications", "24-phone-dark-notifications"],
      ["/maintenance", "25-phone-dark-maintenance"],
    ] as const) {
      await phonePage.goto(`${core.url}${path}`);
      await phonePage.getByRole("table").first().waitFor();
      await shoot(phonePage, name);
    }
    await phone.close();

    const loggedOut = page.waitForResponse((response) => response.url().endsWith("/api/v1/auth/logout"));
    await page.getByRole("button", { name: "Sign out" }).click();
    expect((await loggedOut).status()).toBe(204);
    await page.getByLabel("E-mail").waitFor();
    // The session ended on the core too: its cookie no longer opens the API.
    expect((await page.request.get(`${core.url}/api/v1/auth/me`)).status()).toBe(401);

    // A viewer reads everything and sees nothing to edit.
    await page.getByLabel("E-mail").fill(VIEWER_EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText("as viewer").waitFor();
    await page.goto(`${core.url}/checks`);
    await page.getByRole("link", { name: "local web" }).click();
    await page.getByRole("region", { name: "Recent failures" }).waitFor();
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Delete" }).count()).toBe(0);
    await page.goto(`${core.url}/checks`);
    await page.getByRole("link", { name: "local web" }).waitFor();
    expect(await page.getByRole("link", { name: "New check" }).count()).toBe(0);
    await shoot(page, "26-viewer-checks");
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 240_000);
});
