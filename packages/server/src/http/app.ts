// The core's HTTP application: health, readiness and metrics now; the /api/v1 modules
// mount their routes here. Built once per instance, tested through app.request().
import { Hono } from "hono";
import type { Logger } from "../log.ts";
import { errorResponse } from "./errors.ts";
import type { Metrics } from "./metrics.ts";

export interface Readiness {
  ready: boolean;
  /** Why not, for operators reading /readyz. */
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface AppDependencies {
  logger: Logger;
  metrics: Metrics;
  /** Answers /readyz: the database is reachable and fully migrated. */
  readiness: () => Promise<Readiness>;
  /** Identifies this core process in responses and logs. */
  instanceId: string;
}

export function createApp(deps: AppDependencies): Hono {
  const app = new Hono();
  app.use("*", deps.metrics.httpMiddleware);
  app.onError((error, c) => errorResponse(c, error, deps.logger));
  app.notFound((c) => c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404));

  app.get("/healthz", (c) => c.json({ status: "ok", instanceId: deps.instanceId }));

  app.get("/readyz", async (c) => {
    const readiness = await deps.readiness();
    return c.json({ status: readiness.ready ? "ready" : "not_ready", checks: readiness.checks }, readiness.ready ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.text(body, 200, { "content-type": deps.metrics.registry.contentType });
  });

  app.get("/", (c) =>
    c.html(
      `<!doctype html><html><head><meta charset="utf-8"><title>Vantage</title></head><body>` +
        `<h1>Vantage core is running</h1><p>Instance <code>${deps.instanceId}</code>.</p>` +
        `<ul><li><a href="/healthz">/healthz</a> — alive</li><li><a href="/readyz">/readyz</a> — database reachable and migrated</li>` +
        `<li><a href="/metrics">/metrics</a> — Prometheus metrics</li></ul></body></html>`,
    ),
  );
  return app;
}
