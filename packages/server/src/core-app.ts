// The core's HTTP app as main.ts serves it and the API tests call it: health, readiness and
// metrics, and every module's routes mounted by their paths under /api/v1, behind the API guard.
import type { Hono } from "hono";
import type { AccountCredentials, AdminTokenVerifier, ClientAddressOf } from "./auth/index.ts";
import type { CoreModule } from "./core-module.ts";
import { VantageError } from "./errors.ts";
import { createApp, type Metrics, type Readiness } from "./http/index.ts";
import type { Logger } from "./log.ts";

export interface CoreAppOptions {
  logger: Logger;
  metrics: Metrics;
  /** Answers /readyz. */
  readiness: () => Promise<Readiness>;
  instanceId: string;
  verifyAdmin: AdminTokenVerifier;
  /** API tokens and browser sessions, from the auth module (whose routes are among `modules`). */
  accounts?: AccountCredentials;
  /** The client address wrong tokens count under (behind trusted proxies, the forwarded one). */
  clientAddressOf?: ClientAddressOf;
  /** Whose routes the API serves. */
  modules: ReadonlyArray<Pick<CoreModule, "routes" | "publicRoutes" | "bodyLimits">>;
  /** The built UI's folder (default: packages/web/dist). */
  webRoot?: string;
}

export function createCoreApp(options: CoreAppOptions): Hono {
  const { logger, metrics, readiness, instanceId, verifyAdmin, accounts, clientAddressOf } = options;
  const publicRoutes = mountTable(options.modules.map((module) => ({ routes: module.publicRoutes ?? {} })));
  return createApp({
    logger,
    metrics,
    readiness,
    instanceId,
    api: {
      verifyAdmin,
      accounts,
      clientAddressOf,
      routes: mountTable(options.modules),
      bodyLimits: Object.assign({}, ...options.modules.map((module) => module.bodyLimits ?? {})) as Record<string, number>,
    },
    publicRoutes,
    webRoot: options.webRoot,
  });
}

/** The modules' routes by mount path; two modules claiming one path is a wiring mistake, refused at start. */
export function mountTable(modules: ReadonlyArray<Pick<CoreModule, "routes">>): Record<string, Hono> {
  const table: Record<string, Hono> = {};
  for (const { routes } of modules) {
    for (const [path, route] of Object.entries(routes)) {
      if (Object.hasOwn(table, path)) {
        throw new VantageError("fatal", "routes_mounted_twice", `Two modules mount routes at /api/v1${path}: give each module paths of its own.`);
      }
      table[path] = route;
    }
  }
  return table;
}
