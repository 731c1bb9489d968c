// The API's description as the core serves it: GET /api/v1/openapi.json (built from the app's
// routes on first request, when every module has mounted its own) and the interactive reference
// at /api/docs — Scalar's standalone browser bundle, read from node_modules, so nothing is
// fetched from another host at run time.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Hono } from "hono";
import { z } from "zod";
import { errorBody } from "../../errors.ts";
import { describeRoute } from "./describe-route.ts";
import { buildOpenApiDocument, type GuardErrors, type OpenApiInfo, type OpenApiTags } from "./openapi-document.ts";

export const OPENAPI_PATH = "/api/v1/openapi.json";
const BUNDLE_PATH = "/api/docs/scalar.js";
const BUNDLE_FILE = "@scalar/api-reference/dist/browser/standalone.js";

/** The bundle's file (the package does not export it, so it is looked up where Node looks for packages). */
function bundleFile(): string | undefined {
  const require = createRequire(import.meta.url);
  return (require.resolve.paths("@scalar/api-reference") ?? []).map((dir) => path.join(dir, BUNDLE_FILE)).find((file) => existsSync(file));
}

// Fonts and telemetry off: Scalar would fetch them from its own hosts. Its developer toolbar and
// the card that advertises its hosted services are for its own customers, not ours.
const SCALAR_CONFIG = {
  url: OPENAPI_PATH,
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  agent: { disabled: true },
  mcp: { disabled: true },
  customCss: ".explore-scalar-cta, .explore-scalar-card { display: none !important; }",
};

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Vantage API reference</title>
    <style>body { margin: 0; font-family: system-ui, sans-serif; }</style>
  </head>
  <body>
    <div id="app"></div>
    <script src="${BUNDLE_PATH}"></script>
    <script>Scalar.createApiReference("#app", ${JSON.stringify(SCALAR_CONFIG)});</script>
  </body>
</html>
`;

const documentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** Adds the document and the reference to `app`; register before any guard so both answer without credentials. */
export function serveApiReference(app: Hono, info: OpenApiInfo, tags: OpenApiTags = [], guardErrors?: GuardErrors): void {
  let document: Record<string, unknown> | undefined;
  let bundle: Promise<string> | undefined;

  app.get(
    OPENAPI_PATH,
    describeRoute({
      summary: "This OpenAPI document",
      tag: "reference",
      public: true,
      responses: { 200: { description: "OpenAPI 3.1", schema: documentSchema } },
      examples: { document: { summary: "The document" } },
    }),
    (c) => c.json((document ??= buildOpenApiDocument(app, info, tags, guardErrors))),
  );

  app.get(
    "/api/docs",
    describeRoute({
      summary: "The interactive API reference (HTML)",
      tag: "reference",
      public: true,
      responses: { 200: { description: "The page", schema: z.string(), contentType: "text/html" } },
    }),
    (c) => c.html(PAGE),
  );

  app.get(
    BUNDLE_PATH,
    describeRoute({
      summary: "The reference's script",
      tag: "reference",
      public: true,
      responses: { 200: { description: "Scalar's standalone bundle", schema: z.string(), contentType: "text/javascript" } },
      errors: { 404: "The reference's npm package is not installed." },
    }),
    async (c) => {
      const file = bundleFile();
      if (!file) return c.json(errorBody("not_found", "The API reference is not installed (npm package @scalar/api-reference)."), 404);
      bundle ??= readFile(file, "utf8");
      return c.body(await bundle, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" });
    },
  );
}
