// The HTTP edge: the Hono app and its server, the per-instance metrics registry, and the one
// way routes read request bodies, query strings and the ids in their paths, and answer documents (JSON or YAML).
export { createApp } from "./app.ts";
export type { Readiness } from "./app.ts";
export { startHttpServer } from "./http-server.ts";
export { jsonOrYamlResponse } from "./json-or-yaml-response.ts";
export { applyMergePatch } from "./merge-patch.ts";
export { defineReadOnlyFields } from "./read-only-fields.ts";
export type { ReadOnlyFields, ReadOnlyStored } from "./read-only-fields.ts";
export { createMetrics, eachValue, zeroSeries } from "./metrics.ts";
export type { Metrics } from "./metrics.ts";
export { pathId } from "./path-ids.ts";
export { requestCause } from "./request-id.ts";
export { nextCursor, readJsonBody, readJsonOrYamlBody, readQuery } from "./request-body.ts";
export { parseYamlBody } from "./parse-yaml-body.ts";
export { describeRoute } from "./openapi/describe-route.ts";
export type { RouteDoc, RouteExample } from "./openapi/describe-route.ts";
export { buildOpenApiDocument, documentedRoutes, openApiPath } from "./openapi/openapi-document.ts";
