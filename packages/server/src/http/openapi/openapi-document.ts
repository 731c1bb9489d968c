// The OpenAPI 3.1 document of an app, built from the routes Hono has registered: each route's
// method and path come from Hono, its parameters, bodies and answers from the zod schemas its
// describeRoute names (converted with zod's own JSON Schema output, draft 2020-12 — the dialect
// OpenAPI 3.1 uses). A route without a description is left out; the API tests fail on it.
import { CSRF_HEADER } from "@vantage/protocol";
import type { Hono } from "hono";
import { z } from "zod";
import { errorResponseSchema } from "../../errors.ts";
import { type RouteDoc, routeDocOf } from "./describe-route.ts";

type Json = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/**
 * The error answers a guard in front of the routes may give on a route (method and Hono path),
 * beyond 401/429: the app's access policy says which (403 for a role, or a missing CSRF token).
 */
export type GuardErrors = (method: string, honoPath: string) => Record<number, string>;

/** The reference's sections in order, with what each holds; tags not named here follow, in route order. */
export type OpenApiTags = ReadonlyArray<{ name: string; description: string }>;

/** The statuses every route may answer, beyond its own: the reason each happens. */
const AUTH_ERRORS: Record<number, string> = {
  401: "No valid credentials (`unauthorized`).",
  429: "Too many wrong tokens from this address (`too_many_auth_failures`); retry after the Retry-After header.",
};
const INPUT_ERROR = "The body or query is invalid (`invalid_input`, `invalid_query`, …); `details.issues` lists each problem at its path.";
const NOT_FOUND_ERROR = "No such resource (`*_not_found`).";
const TOO_LARGE_ERROR = "The body exceeds the API's limit (`payload_too_large`).";

const METHODS = new Set(["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]);

/** Hono's `:id` (or `:id{regex}`) as OpenAPI's `{id}`, with the names in order. */
export function openApiPath(honoPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = honoPath.replace(/:([A-Za-z_][\w]*)(\{[^}]*\})?\??/g, (_all, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: path.length > 1 ? path.replace(/\/$/, "") : path, params };
}

/** The documented routes and the undocumented ones (method and Hono path) of `app`, in registration order. */
export function documentedRoutes(app: Hono): {
  documented: Array<{ method: string; path: string; doc: RouteDoc }>;
  undocumented: Array<{ method: string; path: string }>;
} {
  const docs = new Map<string, RouteDoc | undefined>();
  for (const route of app.routes) {
    if (!METHODS.has(route.method)) continue;
    const key = `${route.method} ${route.path}`;
    docs.set(key, docs.get(key) ?? routeDocOf(route.handler));
  }
  const documented: Array<{ method: string; path: string; doc: RouteDoc }> = [];
  const undocumented: Array<{ method: string; path: string }> = [];
  for (const [key, doc] of docs) {
    const [method, path] = key.split(" ") as [string, string];
    if (doc) documented.push({ method, path, doc });
    else undocumented.push({ method, path });
  }
  return { documented, undocumented };
}

/** Converts zod schemas into one document's components, each schema once; recursive ones' $defs become components too. */
function schemaConverter(components: Record<string, Json>) {
  const converted = new Map<z.ZodType, Map<string, Json>>();
  let defs = 0;
  const hoist = (node: unknown, refs: Map<string, string>): unknown => {
    if (Array.isArray(node)) return node.map((item) => hoist(item, refs));
    if (node === null || typeof node !== "object") return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && refs.has(value)) out.$ref = refs.get(value);
      else out[key] = hoist(value, refs);
    }
    return out;
  };
  return (schema: z.ZodType, io: "input" | "output"): Json => {
    const cached = converted.get(schema)?.get(io);
    if (cached) return cached;
    const { $schema: _dialect, $defs, ...json } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
    // $defs (zod's names for recursive parts) resolve against the document root in OpenAPI: move them under components.
    const refs = new Map<string, string>();
    for (const name of Object.keys(($defs as Json | undefined) ?? {})) refs.set(`#/$defs/${name}`, `#/components/schemas/Def${++defs}`);
    for (const [name, def] of Object.entries(($defs as Json | undefined) ?? {}))
      components[refs.get(`#/$defs/${name}`)!.split("/").at(-1)!] = hoist(def, refs) as Json;
    const result = hoist(json, refs) as Json;
    converted.set(schema, (converted.get(schema) ?? new Map<string, Json>()).set(io, result));
    return result;
  };
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

function errorAnswer(description: string): Json {
  return { description, content: { "application/json": { schema: ERROR_REF } } };
}

function operationId(method: string, path: string): string {
  const words = path
    .split("/")
    .filter((segment) => segment !== "" && segment !== "api" && segment !== "v1")
    .map((segment) => (segment.startsWith("{") ? `By ${segment.slice(1, -1)}` : segment))
    .join(" ")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
}

function tagOf(path: string, doc: RouteDoc): string {
  if (doc.tag) return doc.tag;
  const segments = path.split("/").filter(Boolean);
  return segments[0] === "api" && segments[1] === "v1" && segments[2] ? segments[2] : "operations";
}

/** The query object's JSON Schema as OpenAPI query parameters (one per property). */
function queryParameters(json: Json, examples: RouteDoc["examples"]): Json[] {
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: "query",
      required: required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...namedExamples(examples, (example) => example.query?.[name]),
    };
  });
}

/** OpenAPI `examples` of one place (a parameter, a body) from the route's named examples. */
function namedExamples(examples: RouteDoc["examples"], pick: (example: NonNullable<RouteDoc["examples"]>[string]) => unknown): Json {
  const found: Json = {};
  for (const [name, example] of Object.entries(examples ?? {})) {
    const value = pick(example);
    if (value !== undefined) found[name] = { summary: example.summary, value };
  }
  return Object.keys(found).length > 0 ? { examples: found } : {};
}

/** The route's own errors over the common ones; where both name a status, both reasons are kept. */
function mergeErrors(common: Record<number, string>, own: Record<number, string> = {}): Record<number, string> {
  const merged = { ...common };
  for (const [status, description] of Object.entries(own)) {
    const key = Number(status);
    merged[key] = merged[key] === undefined ? description : `${merged[key]} ${description}`;
  }
  return merged;
}

function operation(
  method: string,
  honoPath: string,
  doc: RouteDoc,
  convert: ReturnType<typeof schemaConverter>,
  guardErrors: GuardErrors,
): { path: string; operation: Json } {
  const { path, params } = openApiPath(honoPath);
  const paramSchemas = doc.params ? (convert(doc.params, "input").properties as Record<string, Json>) : {};
  const parameters: Json[] = params.map((name) => {
    const { description, ...schema } = paramSchemas[name] ?? { type: "string" };
    return {
      name,
      in: "path",
      required: true,
      ...(description ? { description } : {}),
      schema,
      ...namedExamples(doc.examples, (example) => example.params?.[name]),
    };
  });
  if (doc.query) parameters.push(...queryParameters(convert(doc.query, "input"), doc.examples));

  const responses: Json = {};
  for (const [status, answer] of Object.entries(doc.responses)) {
    const content: Json = {};
    if (answer.schema) {
      const schema = convert(answer.schema, "output");
      content[answer.contentType ?? "application/json"] = { schema };
      if (doc.yaml && !answer.contentType) content["application/yaml"] = { schema };
    }
    responses[status] = { description: answer.description, ...(answer.schema ? { content } : {}) };
  }
  const errors = mergeErrors(doc.public ? {} : { ...AUTH_ERRORS, ...guardErrors(method, honoPath) }, doc.errors);
  if (doc.body || doc.query) errors[400] ??= INPUT_ERROR;
  if (params.length > 0) errors[404] ??= NOT_FOUND_ERROR;
  if (doc.body) errors[413] ??= TOO_LARGE_ERROR;
  for (const [status, description] of Object.entries(errors)) responses[status] ??= errorAnswer(description);

  const op: Json = {
    operationId: operationId(method, path),
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [tagOf(path, doc)],
    ...(parameters.length > 0 ? { parameters } : {}),
    responses,
    ...(doc.public ? { security: [] } : {}),
    ...(doc.examples ? { "x-examples": doc.examples } : {}),
  };
  if (doc.body) {
    const schema = convert(doc.body, "input");
    const bodyExamples = namedExamples(doc.examples, (example) => example.body);
    op.requestBody = {
      required: !doc.bodyOptional,
      content: { "application/json": { schema, ...bodyExamples }, ...(doc.yaml ? { "application/yaml": { schema } } : {}) },
    };
  }
  return { path, operation: op };
}

/** The OpenAPI 3.1 document of every route `app` has registered with a describeRoute. */
export function buildOpenApiDocument(app: Hono, info: OpenApiInfo, tags: OpenApiTags = [], guardErrors: GuardErrors = () => ({})): Json {
  const components: Record<string, Json> = {};
  const convert = schemaConverter(components);
  const paths: Record<string, Json> = {};
  for (const { method, path: honoPath, doc } of documentedRoutes(app).documented) {
    const { path, operation: op } = operation(method, honoPath, doc, convert, guardErrors);
    paths[path] = { ...paths[path], [method.toLowerCase()]: op };
  }
  components.Error = convert(errorResponseSchema, "output");
  const used = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => (op as { tags: string[] }).tags)));
  const named = tags.filter((tag) => used.has(tag.name));
  const rest = [...used].filter((name) => !named.some((tag) => tag.name === name)).map((name) => ({ name }));
  return {
    openapi: "3.1.0",
    info,
    tags: [...named, ...rest],
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: "/", description: "This core" }],
    // Either one: a bearer token, or the browser session's cookie.
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description:
            "The admin token (`VANTAGE_ADMIN_TOKEN`) or an API token (`vtk_…`, from `POST /api/v1/tokens`) as `Authorization: Bearer <token>`; it wins over a cookie.",
        },
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: "vantage_session",
          description: `The browser session \`POST /api/v1/auth/login\` starts. A write with it must send the session's CSRF token (from login or \`GET /api/v1/auth/me\`) in \`${CSRF_HEADER}\`.`,
        },
      },
    },
  };
}
