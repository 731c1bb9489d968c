// The OpenAPI document of the whole core: a valid OpenAPI 3.1 document (checked by a real
// validator) that describes every route the core registers, served without credentials.
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { documentedRoutes, openApiPath } from "../../../src/http/index.ts";
import { callApi } from "../../support/api/api-app.ts";
import { useFullApiApp } from "../../support/api/full-api-app.ts";
import { requirementOf } from "../../../src/auth/access-policy.ts";

const api = useFullApiApp("openapi-document");

type Document = { openapi: string; paths: Record<string, Record<string, unknown>> };

async function fetchDocument(): Promise<Document> {
  const answer = await callApi<Document>(api.app, "GET", "/api/v1/openapi.json", undefined, null);
  expect(answer.status).toBe(200);
  return answer.body;
}

describe("GET /api/v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without credentials", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("describes every route the core registers (method and path)", async () => {
    const document = await fetchDocument();
    const missing = api.app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({ method: route.method.toLowerCase(), path: openApiPath(route.path).path }))
      .filter(({ method, path }) => document.paths[path]?.[method] === undefined)
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect([...new Set(missing)]).toEqual([]);
    expect(documentedRoutes(api.app).undocumented).toEqual([]);
  });

  it("documents the guard's 403 on every write (a viewer's role, a cookie without its CSRF token) and on admin-only reads", async () => {
    const document = await fetchDocument();
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith("/api/v1/") || path === "/api/v1/auth/login") continue;
      for (const [method, op] of Object.entries(item as Record<string, { responses: Record<string, { description: string }>; security?: unknown[] }>)) {
        if (op.security?.length === 0) continue;
        const forbidden = op.responses["403"]?.description ?? "";
        const write = !["get", "head", "options"].includes(method);
        // Above a viewer's role for this read or write (admin-only paths, secrets' names), from the one policy.
        const aboveViewer = requirementOf(method, path) !== "viewer";
        const selfService = path.startsWith("/api/v1/auth/");
        if (write && !forbidden.includes("csrf_token_invalid")) problems.push(`${method} ${path}: no csrf_token_invalid`);
        if (((write && !selfService) || aboveViewer) && !forbidden.includes("`forbidden`")) problems.push(`${method} ${path}: no forbidden`);
        if (!write && !aboveViewer && forbidden !== "") problems.push(`${method} ${path}: a 403 a viewer's read never gets`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("documents nothing the core does not serve", async () => {
    const document = await fetchDocument();
    const served = new Set(api.app.routes.map((route) => `${route.method.toLowerCase()} ${openApiPath(route.path).path}`));
    const extra = Object.entries(document.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
      .filter((route) => !served.has(route));
    expect(extra).toEqual([]);
  });
});
