// Prometheus metrics: one registry per core instance (so two instances in one test
// process never collide), process metrics, and HTTP request durations by route. Our own
// metrics are named `vantage_*`; Node's process metrics keep their standard names.
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import { ADMIN_AUTH_FAILURES } from "../auth/index.ts";

export interface Metrics {
  registry: Registry;
  /** Hono middleware observing `vantage_http_request_duration_seconds{method,route,status}`. */
  httpMiddleware: MiddlewareHandler;
  /** `vantage_admin_auth_failures_total{reason}`: requests to the admin API refused for their credentials. */
  adminAuthFailures: Counter<"reason">;
}

export function createMetrics(options: { collectProcessMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: "vantage_http_request_duration_seconds",
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
      // The route pattern, not the raw path, keeps label cardinality bounded; a 404 or 405 matched no route.
      const route = c.res.status === 404 || c.res.status === 405 ? "unmatched" : routePath(c, -1);
      stop({ method: c.req.method, route, status: String(c.res.status) });
    }
  };
  const adminAuthFailures = zeroSeries(
    new Counter({
      name: "vantage_admin_auth_failures_total",
      help: "API requests refused for their credentials (admin token, API tokens, sessions), by reason (missing, invalid, rate_limited: refused unchecked over the failure limit)",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    eachValue("reason", ADMIN_AUTH_FAILURES),
  );
  return { registry, httpMiddleware, adminAuthFailures };
}

/**
 * Creates each listed series of a labelled counter at zero, so dashboards and `rate()` see it
 * before its first event (an alert on `increase(...) > 0` cannot tell "never" from "missing").
 */
export function zeroSeries<L extends string>(counter: Counter<L>, series: ReadonlyArray<Partial<Record<L, string>>>): Counter<L> {
  for (const labels of series) counter.inc(labels, 0);
  return counter;
}

/** Every value of one label, as zeroSeries takes them. */
export const eachValue = <L extends string>(label: L, values: readonly string[]): Array<Partial<Record<L, string>>> =>
  values.map((value) => ({ [label]: value }) as Partial<Record<L, string>>);
