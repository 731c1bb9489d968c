// The core's HTTP application: health, readiness, metrics, the /api/v1 routes of each module
// behind the one API guard (credentials, role, CSRF), and the web UI for every other GET. Built once per instance, tested
// through app.request().
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { accessErrorsOf, type AccountCredentials, type AdminTokenVerifier, apiGuard, type ClientAddressOf, type FailureLimit } from "../auth/index.ts";
import { errorBody } from "../errors.ts";
import type { Logger } from "../log.ts";
import { allowedMethods } from "./allowed-methods.ts";
import { errorResponse } from "./errors.ts";
import { assignRequestId } from "./request-id.ts";
import type { Metrics } from "./metrics.ts";
import { createWebUi } from "./web-ui.ts";
import { describeRoute } from "./openapi/describe-route.ts";
import { serveApiReference } from "./openapi/api-reference.ts";
import { z } from "zod";
import { CORE_VERSION } from "../outbound/index.ts";
import { CSRF_HEADER } from "@vantage/protocol";

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
  /** The built web UI served at / (default: packages/web/dist). */
  webRoot?: string;
  /** The JSON API: each module's routes by mount path (e.g. `/satellites`), all behind the API guard. */
  api?: {
    verifyAdmin: AdminTokenVerifier;
    /** API tokens and browser sessions (without them only the admin token is accepted). */
    accounts?: AccountCredentials | undefined;
    routes: Record<string, Hono>;
    /** Larger body limits for some mount paths (config bundles), in bytes; the rest get MAX_API_BODY_BYTES. */
    bodyLimits?: Record<string, number>;
    /** Wrong tokens allowed per source address and window before 429 (default 10 a minute). */
    failureLimit?: FailureLimit;
    /** The clock of that window, in epoch milliseconds. */
    now?: () => number;
    /** The client address failures count under (behind VANTAGE_TRUSTED_PROXIES, the forwarded one). */
    clientAddressOf?: ClientAddressOf;
  };
  /** Routes outside /api/v1 that authenticate by themselves (heartbeat pings), by mount path. */
  publicRoutes?: Record<string, Hono>;
}

/** A public route reads no more than this: a ping carries nothing we store. */
export const MAX_PUBLIC_BODY_BYTES = 10 * 1024;

/** The largest request body the API reads; more is refused with 413 before it is parsed. */
export const MAX_API_BODY_BYTES = 64 * 1024;

const API_DESCRIPTION =
  "The HTTP API of a Vantage core: satellites, checks and their results, automations and their runs, notification channels, " +
  "entity change history and the live event stream, users and API tokens. Bodies are JSON; routes that say so take YAML too (`Content-Type: application/yaml`). " +
  "Every error answer is `{ error: { code, message, details? } }`. " +
  "Authenticate with `Authorization: Bearer <token>` (the admin token or an API token), or with the session cookie `POST /api/v1/auth/login` sets: " +
  `a write (POST, PUT, PATCH, DELETE) with the cookie must send the session's CSRF token in the \`${CSRF_HEADER}\` header, or it is refused (403 \`csrf_token_invalid\`).`;

const API_TAGS = [
  { name: "satellites", description: "Agents that run checks inside remote networks: register one (its token is shown once), rotate its token, delete it." },
  { name: "checks", description: "HTTP, TCP, DNS and TLS checks: definitions, results, statistics, health, runs on demand." },
  { name: "automations", description: "Triggers → conditions → actions, their runs (with traces) and the skips that say why nothing ran." },
  { name: "triggers", description: "The events automations can trigger on." },
  { name: "notification-channels", description: "Where notify steps send: webhook, Slack, Discord, email." },
  { name: "events", description: "Entity changes, live, as server-sent events." },
  { name: "entities", description: "One entity's change history." },
  { name: "changes", description: "Change history across entities, and what a run or a request changed." },
  { name: "auth", description: "Log in and out of a browser session, and who the caller is." },
  { name: "users", description: "Accounts with an e-mail, a password and a role: viewer, editor or admin (admins only)." },
  { name: "tokens", description: "Named API tokens with a role and an optional expiry; the secret is shown once (admins only)." },
  { name: "operations", description: "Liveness, readiness and Prometheus metrics, without credentials." },
  { name: "reference", description: "This document and the interactive reference." },
];

const healthzDoc = {
  summary: "Liveness: the process answers",
  tag: "operations",
  public: true,
  responses: { 200: { description: "Alive", schema: z.object({ status: z.literal("ok"), instanceId: z.string() }) } },
  examples: { alive: { summary: "Is it alive?" } },
};

const readinessSchema = z.object({
  status: z.enum(["ready", "not_ready"]),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});

const readyzDoc = {
  summary: "Readiness: the database is reachable and fully migrated",
  tag: "operations",
  public: true,
  responses: { 200: { description: "Ready", schema: readinessSchema }, 503: { description: "Not ready; `checks` says why", schema: readinessSchema } },
  examples: { ready: { summary: "Is it ready?" } },
};

const metricsDoc = {
  summary: "Prometheus metrics",
  tag: "operations",
  public: true,
  responses: { 200: { description: "The Prometheus text format", schema: z.string(), contentType: "text/plain" } },
  examples: { scrape: { summary: "A scrape" } },
};

export function createApp(deps: AppDependencies): Hono {
  const app = new Hono();
  app.use("*", deps.metrics.httpMiddleware);
  app.onError((error, c) => errorResponse(c, error, deps.logger));
  // No route for this method: a path that other methods answer is a 405 naming them.
  const methodsOf = allowedMethods(app);
  const ui = createWebUi({ root: deps.webRoot, instanceId: deps.instanceId });
  app.notFound((c) => {
    // A GET no route took may be a client route of the web UI: its index.html.
    const page = ui.page(c);
    if (page) return page;
    const allowed = methodsOf(c.req.path);
    if (allowed.length === 0 || allowed.includes(c.req.method)) return c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404);
    const message = `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(", ")}.`;
    return c.json(errorBody("method_not_allowed", message), 405, { allow: allowed.join(", ") });
  });

  // Before the API's guard: the description of the API is public, as the reference that reads it.
  serveApiReference(app, { title: "Vantage API", version: CORE_VERSION, description: API_DESCRIPTION }, API_TAGS, accessErrorsOf);

  if (deps.api) {
    app.use("/api/v1/*", assignRequestId);
    // Authentication and the role first: an unauthenticated or unauthorized client never gets its body read.
    app.use(
      "/api/v1/*",
      apiGuard(deps.api.verifyAdmin, {
        accounts: deps.api.accounts,
        failureLimit: deps.api.failureLimit,
        now: deps.api.now,
        clientAddressOf: deps.api.clientAddressOf,
        onFailure: (reason) => deps.metrics.adminAuthFailures.inc({ reason }),
      }),
    );
    const limitOf = (maxSize: number) =>
      bodyLimit({ maxSize, onError: (c) => c.json(errorBody("payload_too_large", `The request body exceeds ${maxSize / 1024} KiB.`), 413) });
    const general = limitOf(MAX_API_BODY_BYTES);
    const larger = Object.entries(deps.api.bodyLimits ?? {}).map(([path, maxSize]) => ({ prefix: `/api/v1${path}/`, limit: limitOf(maxSize) }));
    app.use("/api/v1/*", (c, next) => (larger.find(({ prefix }) => c.req.path.startsWith(prefix))?.limit ?? general)(c, next));
    for (const [path, routes] of Object.entries(deps.api.routes)) app.route(`/api/v1${path}`, routes);
  }

  for (const [path, routes] of Object.entries(deps.publicRoutes ?? {})) {
    app.use(
      `${path}/*`,
      bodyLimit({ maxSize: MAX_PUBLIC_BODY_BYTES, onError: (c) => c.json(errorBody("payload_too_large", "The request body is too large."), 413) }),
    );
    app.route(path, routes);
  }

  app.get("/healthz", describeRoute(healthzDoc), (c) => c.json({ status: "ok", instanceId: deps.instanceId }));

  app.get("/readyz", describeRoute(readyzDoc), async (c) => {
    const readiness = await deps.readiness();
    return c.json({ status: readiness.ready ? "ready" : "not_ready", checks: readiness.checks }, readiness.ready ? 200 : 503);
  });

  app.get("/metrics", describeRoute(metricsDoc), async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.text(body, 200, { "content-type": deps.metrics.registry.contentType });
  });

  app.use("/assets/*", ui.assets);
  return app;
}
