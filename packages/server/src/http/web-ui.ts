// The web UI as the core serves it: Vite's hashed assets under /assets/* cached for a year,
// index.html never cached, and index.html for every other GET a client route could be.
// Where the UI was never built, a page that says how to build it instead of a blank one.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context, MiddlewareHandler } from "hono";

/** Where `npm run build -w @vantage/web` writes the UI (npm install runs it). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

/**
 * Paths the UI never answers: the API, health, metrics, the satellite gateway (a WebSocket
 * upgrade, answered before Hono) and heartbeat pings. A GET there that no route took is a 404
 * in JSON, not the UI's index page.
 */
const SERVER_PATHS = ["/api/", "/healthz", "/readyz", "/metrics", "/ws/", "/hb/"];
const isServerPath = (path: string): boolean => SERVER_PATHS.some((prefix) => path === prefix.replace(/\/$/, "") || path.startsWith(prefix));

// Asset names carry their content hash: a new build has new names, so a year is safe.
const ASSET_CACHE = "public, max-age=31536000, immutable";
// The index names the current assets: the browser must ask again every time (it may get a 304).
const INDEX_CACHE = "no-cache";

/** The page shown while the UI is missing: the API works, the browser is told how to get the rest. */
function notBuiltPage(instanceId: string, root: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vantage — UI not built</title></head><body>` +
    `<h1>Vantage core is running, but the web UI is not built</h1>` +
    `<p>No <code>index.html</code> in <code>${root}</code>. Build it from the repository root with ` +
    `<code>npm run build -w @vantage/web</code> (<code>npm install</code> does this), then reload.</p>` +
    `<p>Instance <code>${instanceId}</code>. <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> · <a href="/metrics">/metrics</a></p>` +
    `</body></html>`
  );
}

export interface WebUiOptions {
  /** The built UI's folder (default: packages/web/dist). */
  root?: string;
  instanceId: string;
}

export interface WebUi {
  /** Mounted at /assets/*: the built files, cached for a year once found. */
  assets: MiddlewareHandler;
  /**
   * For the app's not-found handler: index.html for a GET no route took, unless the path is
   * the server's own. Called there, not as a catch-all route, so neither the 405 logic nor
   * the metrics' route label ever see the UI as a route of every path.
   */
  page: (c: Context) => Response | undefined;
}

export function createWebUi(options: WebUiOptions): WebUi {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  const indexPath = join(root, "index.html");
  // Made once the folder exists: serveStatic writes to stderr when built over a missing one.
  let serve: MiddlewareHandler | undefined;

  return {
    assets: async (c, next) => {
      if (!serve && !existsSync(root)) return next();
      serve ??= serveStatic({ root });
      const response = await serve(c, next);
      // Only a file found is cached: a 404 for a name the next build may bring must not stick.
      if (response instanceof Response && response.ok) response.headers.set("cache-control", ASSET_CACHE);
      return response;
    },
    page: (c) => {
      const { method, path } = c.req;
      // A missing asset is a 404: answering it with the index would hand a script tag HTML.
      if ((method !== "GET" && method !== "HEAD") || isServerPath(path) || path.startsWith("/assets/")) return undefined;
      // Read on each request: a rebuild (or a first build) is served without restarting the core.
      if (!existsSync(indexPath)) return c.html(notBuiltPage(options.instanceId, root), 503, { "cache-control": INDEX_CACHE });
      return c.html(readFileSync(indexPath, "utf8"), 200, { "cache-control": INDEX_CACHE });
    },
  };
}
