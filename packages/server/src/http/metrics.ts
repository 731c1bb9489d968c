// Prometheus metrics: one registry per core instance (so two instances in one test
// process never collide), process metrics, and HTTP request durations by route.
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  /** Hono middleware observing `http_request_duration_seconds{method,route,status}`. */
  httpMiddleware: MiddlewareHandler;
}

export function createMetrics(options: { collectProcessMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, matched route and status code",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const httpMiddleware: MiddlewareHandler = async (c, next) => {
    const stop = httpDuration.startTimer();
    try {
      await next();
    } finally {
      // The route pattern, not the raw path, keeps label cardinality bounded.
      const route = c.res.status === 404 ? "unmatched" : routePath(c, -1);
      stop({ method: c.req.method, route, status: String(c.res.status) });
    }
  };
  return { registry, httpMiddleware };
}
