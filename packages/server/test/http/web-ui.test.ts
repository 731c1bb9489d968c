// The core serves the built web UI: hashed assets cached for a year, index.html never cached
// and answered for client routes, the server's own paths left alone, and a page that says how
// to build the UI where it is missing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { silentLogger } from "../../src/log.ts";

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(os.tmpdir(), "vantage-web-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), INDEX);
  writeFileSync(join(root, "assets", "index-abc123.js"), "console.log('ui');");
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const appServing = (webRoot: string) =>
  createApp({
    logger: silentLogger(),
    metrics: createMetrics({ collectProcessMetrics: false }),
    readiness: async () => ({ ready: true, checks: {} }),
    instanceId: "test-instance",
    webRoot,
  });

describe("the built UI", () => {
  it("answers / with index.html that the browser must revalidate", async () => {
    const response = await appServing(root).request("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toBe(INDEX);
  });

  it("answers a client route, deep or not, with index.html", async () => {
    for (const path of ["/satellites", "/automations/6f0c/runs/7a1b", "/login?redirect=%2Fsatellites"]) {
      const response = await appServing(root).request(path);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toBe(INDEX);
    }
  });

  it("serves hashed assets as immutable for a year", async () => {
    const response = await appServing(root).request("/assets/index-abc123.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(response.headers.get("content-type")).toMatch(/javascript/);
    expect(await response.text()).toBe("console.log('ui');");
  });

  it("answers a missing asset with 404, not with the index page", async () => {
    const response = await appServing(root).request("/assets/index-old999.js");
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("<html");
  });

  it("refuses a path that climbs out of the assets folder", async () => {
    const response = await appServing(root).request("/assets/..%2F..%2Fetc%2Fpasswd");
    expect(response.status).toBe(404);
  });

  it("leaves the server's own paths to the server: unknown API paths stay JSON 404s, health still answers", async () => {
    const app = appServing(root);
    for (const path of ["/api/v1/nothing", "/api", "/ws/satellite", "/hb/abc", "/metrics/extra"]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toMatchObject({ error: { code: "not_found" } });
    }
    expect(await (await app.request("/healthz")).json()).toMatchObject({ status: "ok" });
  });

  it("answers other methods on UI paths with 404, never a 405 that claims GET works everywhere", async () => {
    const response = await appServing(root).request("/satellites", { method: "POST" });
    expect(response.status).toBe(404);
  });
});

describe("a core whose UI was never built", () => {
  it("says how to build it instead of showing a blank page", async () => {
    const response = await appServing(join(root, "missing")).request("/satellites");
    expect(response.status).toBe(503);
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const page = await response.text();
    expect(page).toContain("npm run build -w @vantage/web");
    expect(page).toContain("test-instance");
  });
});
