// The interactive API reference at /api/docs in Debian's Chromium (driven by playwright-core):
// Scalar's bundle, served by the core itself, renders the core's OpenAPI document, and the
// page asks no other host for anything (no CDN, no fonts, no telemetry). The screen is saved
// as artifacts/web/api-reference.png for people to look at.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpServer, startHttpServer } from "../../../server/src/http/http-server.ts";
import { createFullApiApp, type FullApiApp } from "../../../server/test/support/api/full-api-app.ts";
import { createTestDatabase } from "../../../server/test/support/database.ts";
import { startTestInstance, type TestInstance } from "../../../server/test/support/instance.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../../../artifacts/web/", import.meta.url));

let instance: TestInstance;
let api: FullApiApp;
let http: HttpServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's with 'apt-get install -y chromium' (.ci/run does), or set CHROMIUM_PATH.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  instance = await startTestInstance((await createTestDatabase()).url, "api-reference");
  api = await createFullApiApp(instance);
  http = await startHttpServer(api.app, { host: "127.0.0.1", port: 0 });
  // As root (CI) Chromium's sandbox cannot start; the page is our own.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await api?.stop();
  await instance?.stop();
});

describe("the API reference in Chromium", () => {
  it("renders the core's routes from its own bundle and fetches nothing from another host", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" });
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    const elsewhere: string[] = [];
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // Anything not from the core is refused and named: the reference must work offline.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(http.url) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });

    await page.goto(`${http.url}/api/docs`);
    await page.getByRole("heading", { name: "Vantage API" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "api-reference.png") });
    // A section opens to its operations, each rendered from the document.
    await page.getByText("satellites", { exact: true }).first().click();
    await page.getByText("Register a satellite").first().waitFor();
    await page.getByText("Rotate a satellite's token").first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "api-reference-satellites.png") });
    await context.close();

    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
