// A few thousand hostile requests to every route: never a 5xx, and no heap growth.
import { randomUUID } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { findFreePort } from "../../src/storage/postgres/embedded-postgres.ts";
import { TEST_ADMIN_TOKEN } from "../support/api/api-app.ts";
import { useFullApiApp } from "../support/api/full-api-app.ts";

// Fixed seed, bounded runs: a failure prints the counterexample and reproduces exactly.
const SEED = 20_261_201;
const RUNS = 2_000;
/** Heap growth allowed over the whole run, after garbage collection: generous, but far below a leak per request. */
const HEAP_GROWTH_BOUND_BYTES = 64 * 1024 * 1024;

const api = useFullApiApp("api-fuzz");
/** Ids of rows that exist (the fuzzer also uses them in other cases and mangles them). */
const real = { satellite: "", channel: "", automation: "", run: "", check: "", window: "" };
/** A loopback port nothing listens on: every notification the fuzzer sends is refused at once, on this machine. */
let refusedOrigin = "";

beforeAll(async () => {
  refusedOrigin = `http://127.0.0.1:${await findFreePort()}`;
  for (const kind of ["satellite", "channel", "automation", "check", "window"] as const) await createFixture(kind);
});

/** Creates the row of a kind the fuzzer mangles ids of (again, after the fuzzer deleted it). */
async function createFixture(kind: "satellite" | "channel" | "automation" | "check" | "window"): Promise<void> {
  const bodies = validBodies(refusedOrigin);
  if (kind === "satellite") real.satellite = (await send("POST", "/satellites", JSON.stringify(bodies.satellite))).id as string;
  if (kind === "check") real.check = (await send("POST", "/checks", JSON.stringify(bodies.check))).id as string;
  if (kind === "window") real.window = (await send("POST", "/maintenance-windows", JSON.stringify(bodies.window))).id as string;
  if (kind === "channel") real.channel = (await send("POST", "/notification-channels", JSON.stringify(bodies.channel))).id as string;
  if (kind !== "automation") return;
  real.automation = (await send("POST", "/automations", JSON.stringify(bodies.automation))).id as string;
  real.run = ((await send("POST", `/automations/${real.automation}/run`, JSON.stringify(bodies.run))).run as { id: string }).id;
}

const FIXTURE_OF_PATH = {
  "/satellites/": "satellite",
  "/notification-channels/": "channel",
  "/automations/": "automation",
  "/checks/": "check",
  "/maintenance-windows/": "window",
} as const;

/** Keeps a row of each kind for the fuzzer's real ids: a successful DELETE of one makes the next. */
async function replaceDeleted(request: FuzzRequest, status: number): Promise<void> {
  if (request.method !== "DELETE" || status !== 204) return;
  const prefix = Object.keys(FIXTURE_OF_PATH).find((path) => request.path.startsWith(path)) as keyof typeof FIXTURE_OF_PATH;
  await createFixture(FIXTURE_OF_PATH[prefix]);
}

async function send(method: string, path: string, body: string): Promise<Record<string, unknown>> {
  const response = await api.app.request(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
    body,
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A well-formed body of each kind: the fuzzer breaks one field of it at a time. */
function validBodies(origin: string) {
  const name = `fuzz-${randomUUID().slice(0, 8)}`;
  return {
    satellite: { name, region: "eu-west", tags: ["dmz", "edge"], offlineThresholdMs: 60_000 },
    channel: { name, type: "webhook", config: { url: `${origin}/hook`, headers: { "x-team": "ops" }, secret: "fuzz-secret-123" } },
    email: {
      name: `${name}-mail`,
      type: "email",
      config: { host: "127.0.0.1", port: Number(new URL(origin).port), secure: false, from: "vantage@example.com", to: ["ops@example.com"] },
    },
    automation: {
      name,
      triggers: [{ event: "satellite.heartbeat_lost", filter: { compare: { left: "trigger.payload.region", op: "==", right: "'eu-west'" } }, for: "2m" }],
      conditions: [{ time: { after: "08:00", before: "20:00", weekdays: ["mon", "tue"], timezone: "Europe/Berlin" } }],
      actions: [
        { log: { message: "{{ trigger.payload.name }} lost" } },
        {
          webhook: {
            url: `${origin}/probe`,
            secret: "whsec-fuzz",
            headers: { authorization: "Bearer x" },
            body: { satellite: "{{ trigger.payload.satelliteId }}" },
          },
        },
        {
          wait_until: {
            condition: { compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).status", op: "==", right: "'online'" } },
            timeout: "1h",
            continueOnTimeout: true,
          },
        },
        {
          choose: {
            when: [{ conditions: [{ not: { compare: { left: "trigger.event", op: "==", right: "'x'" } } }], then: [{ delay: { duration: "5s" } }] }],
            else: [{ stop: { reason: "no" } }],
          },
        },
        { parallel: { branches: [[{ log: { message: "a" } }], [{ log: { message: "b" } }]] } },
      ],
      mode: "queued",
      maxRuns: 10,
      concurrency: "context",
    },
    run: { payload: { satelliteId: "s", name: "n", region: "eu-west", status: "offline", lastSeenAt: null }, contextKey: "ctx" },
    window: {
      name,
      checks: { labels: { env: "prod" } },
      start: "2026-05-31T02:00:00+02:00",
      end: "2026-05-31T04:00:00+02:00",
      recurrence: { frequency: "weekly", timeZone: "Europe/Berlin", days: ["sun", "wed"], until: "2030-01-01T00:00:00Z" },
    },
    config: {
      bundle: name,
      resources: [
        { kind: "NotificationChannel", name, spec: { type: "webhook", config: { url: `${origin}/hook`, secret: "fuzz-secret-123" } } },
        { kind: "Satellite", name, spec: { region: "eu-west", tags: ["edge"] } },
        { kind: "Check", name, previousName: `${name}-old`, spec: { type: "http", url: `${origin}/health`, labels: { env: "prod" } } },
        { kind: "Automation", name, spec: { triggers: [{ event: "check.unhealthy" }], actions: [{ notify: { channel: name, message: "down" } }] } },
      ],
      prune: true,
      commit: "0123abcd",
    },
    check: {
      name,
      type: "http",
      url: `${origin}/health`,
      headers: { Authorization: "Bearer fuzz-token", "X-Team": "ops" },
      intervalSeconds: 30,
      timeoutMs: 5_000,
      runOn: { core: true, satellites: { regions: ["eu-west"], tags: ["edge"] } },
      labels: { env: "prod" },
      assertions: [
        {
          op: "and",
          of: [
            { subject: "status", op: "in", value: [200, 204] },
            { subject: "body", op: "matches", value: "^ok" },
          ],
          onFail: "degrade",
        },
      ],
    },
  };
}

// --- hostile pieces -------------------------------------------------------------------------

/** Any UTF-16 code unit, so lone surrogates and NUL come up on their own. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const hostileString = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: anyCodeUnit, maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom(
      "",
      " ",
      "\u0000",
      "a\u0000b",
      "\ud800",
      "\udc00",
      "a\udfffb",
      "\ud83d\ude80",
      "<!channel>",
      "@everyone",
      "{{",
      "{{ trigger.payload.x }}",
      "{{ nope(",
      "'",
      '"',
      "\\",
      "%00",
      "../..",
      "NaN",
      "null",
      "1e400",
    ),
    fc.integer({ min: 100, max: 20_000 }).map((length) => "x".repeat(length)),
  )
  // Never a URL off this machine: whatever the fuzzer saves and tests must stay on loopback.
  .filter((text) => !/^\s*(https?|wss?|ftp):/i.test(text));

const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 0.5, -1, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 65_536, 86_400_001),
);

/** A JSON value of any type: the "wrong type" for whatever field it lands in. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: "small" },
  hostileString,
  hostileNumber,
  fc.constantFrom(null, true, false, [], {}, [null], { "": null }, { __proto__: null }, { constructor: { prototype: {} } }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 4 }),
  fc.array(hostileString, { maxLength: 5 }),
);

/** Every path into a value: the root, each key and index, recursively. */
function pathsOf(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  const paths = [path];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...path, index])));
  else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...path, key]));
  return paths;
}

type Mutation = { kind: "replace"; value: unknown } | { kind: "remove" } | { kind: "add"; key: string; value: unknown };

/** `base` with one field replaced by a hostile value, removed, or joined by an unknown one. */
function mutate(base: unknown, path: ReadonlyArray<string | number>, mutation: Mutation): unknown {
  if (path.length === 0) {
    if (mutation.kind === "replace") return mutation.value;
    if (mutation.kind === "add" && base !== null && typeof base === "object" && !Array.isArray(base)) return { ...base, [mutation.key]: mutation.value };
    return mutation.kind === "remove" ? undefined : base;
  }
  const [head, ...rest] = path;
  const copy = (Array.isArray(base) ? [...base] : { ...(base as object) }) as Record<string | number, unknown>;
  const next = mutate(copy[head!], rest, mutation);
  if (next === undefined) delete copy[head!];
  else copy[head!] = next;
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: hostileValue.map((value) => ({ kind: "replace" as const, value })) },
  { weight: 1, arbitrary: fc.constant({ kind: "remove" as const }) },
  { weight: 1, arbitrary: fc.tuple(hostileString, hostileValue).map(([key, value]) => ({ kind: "add" as const, key, value })) },
);

/** A valid body with one thing broken. */
function brokenBody(kind: keyof ReturnType<typeof validBodies>): fc.Arbitrary<unknown> {
  const base = validBodies(refusedOrigin)[kind];
  const paths = pathsOf(base);
  return fc.tuple(fc.nat({ max: paths.length - 1 }), mutation).map(([index, change]) => mutate(base, paths[index]!, change) ?? {});
}

const depth = fc.integer({ min: 60, max: 5_000 });
const deepJson = fc.oneof(
  depth.map((n) => "[".repeat(n) + "]".repeat(n)),
  depth.map((n) => '{"a":'.repeat(n) + "1" + "}".repeat(n)),
  depth.map((n) => `{"name":"deep","region":"eu","tags":${"[".repeat(n)}${"]".repeat(n)}}`),
  depth.map((n) => `{"payload":{"x":${'[{"y":'.repeat(n / 2)}0${"}]".repeat(n / 2)}}}`),
);
const deepYaml = fc.oneof(
  depth.map((n) => "[".repeat(n) + "]".repeat(n)),
  depth.map((n) => "{a: ".repeat(n) + "1" + "}".repeat(n)),
  depth.map((n) => "- ".repeat(n) + "x"),
  depth.map((n) => "? ".repeat(n) + "x"),
  fc.integer({ min: 60, max: 300 }).map((n) => Array.from({ length: n }, (_, level) => `${" ".repeat(level)}k:`).join("\n") + " v"),
);
const hostileYaml = fc.constantFrom(
  "a: &a [*a, *a]\nb: *a\n",
  "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
  "a: &a\n  b: *a\n",
  "base: &base { name: x }\nmerged:\n  <<: *base\n",
  "!!js/function 'function () { return 1 }'\n",
  "name: !!binary aGVsbG8=\n",
  "--- a\n--- b\n",
  "name: .inf\nregion: .nan\n",
  "name: 1e999\n",
  "%YAML 1.1\n---\nname: x\n",
  "? [a, b]\n: c\n",
  'name: "\\0\\uD800"\n',
  "name: |\n  \u0000\n",
  "\t\tname: x",
  "*unknown",
  "&a",
  "[",
  "{",
  "'",
);

/** A body as sent: text or raw bytes. */
type Body = string | Uint8Array;

function bodyArbitrary(kind: keyof ReturnType<typeof validBodies> | null): fc.Arbitrary<Body | undefined> {
  const structured = kind ? brokenBody(kind) : hostileValue;
  return fc.oneof(
    { weight: 8, arbitrary: structured.map((value) => JSON.stringify(value) ?? "") },
    { weight: 3, arbitrary: structured.map((value) => toYaml(value ?? null)) },
    { weight: 2, arbitrary: hostileValue.map((value) => JSON.stringify(value) ?? "") },
    { weight: 2, arbitrary: deepJson },
    { weight: 2, arbitrary: deepYaml },
    { weight: 2, arbitrary: hostileYaml },
    {
      weight: 1,
      arbitrary: hostileNumber.map((n) => `{"name":"n","region":"r","offlineThresholdMs":${String(n)},"limit":1e400,"port":123456789012345678901234567890}`),
    },
    { weight: 1, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Body | undefined>(
        undefined,
        "",
        " ",
        "null",
        "[]",
        "{}",
        '""',
        "x".repeat(70_000),
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0xff, 0xfe, 0x7b, 0x00),
      ),
    },
  );
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/yaml",
  "text/yaml",
  "application/x-yaml",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "",
  "garbage/\u00ff",
];

/** An id as it appears in a path: a real one, mangled, or nonsense; percent-encoded or raw. */
function idArbitrary(realId: () => string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(null).map(() => realId()),
    fc.constant(null).map(() => realId().toUpperCase()),
    fc.constant(null).map(() => ` ${realId()}`),
    fc.constant(null).map(() => `${realId()}x`),
    fc.uuid().map(String),
    fc.constantFrom(
      "%00",
      "%ED%A0%80",
      "%",
      "%zz",
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "{id}",
      "1",
      "-1",
      "schema",
      "validate",
      "x".repeat(5000),
    ),
    hostileString.map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ""))),
  );
}

const queryValue = fc.oneof(
  fc.constantFrom(
    "0",
    "1",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999999",
    "0x10",
    "",
    "%00",
    "%ED%A0%80",
    "%",
    "%zz",
    "queued",
    "busy",
    "running",
  ),
  fc.uuid().map(String),
  hostileString.map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ""))),
);
const queryString = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        "limit",
        "after",
        "before",
        "status",
        "reason",
        "cursor",
        "type",
        "label",
        "enabled",
        "namePrefix",
        "severity",
        "from",
        "to",
        "x",
        "limit[]",
        "__proto__",
        "constructor",
      ),
      queryValue,
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([key, value]) => `${key}=${value}`).join("&")}`));

interface FuzzRequest {
  method: string;
  path: string;
  contentType: string;
  body: Body | undefined;
}

/** Every route of the API, each with the body it takes (null: it takes none, so it gets anything). */
function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
  const satellite = idArbitrary(() => real.satellite);
  const channel = idArbitrary(() => real.channel);
  const automation = idArbitrary(() => real.automation);
  const run = idArbitrary(() => real.run);
  const check = idArbitrary(() => real.check);
  const window = idArbitrary(() => real.window);
  const route = (method: string, path: fc.Arbitrary<string>, kind: keyof ReturnType<typeof validBodies> | null) =>
    fc.record({ method: fc.constant(method), path, contentType: fc.constantFrom(...CONTENT_TYPES), body: bodyArbitrary(kind) });
  return fc.oneof(
    route("POST", fc.constant("/satellites"), "satellite"),
    route(
      "GET",
      queryString.map((query) => `/satellites${query}`),
      null,
    ),
    route(
      "GET",
      satellite.map((id) => `/satellites/${id}`),
      null,
    ),
    route(
      "PATCH",
      satellite.map((id) => `/satellites/${id}`),
      "satellite",
    ),
    route(
      "POST",
      satellite.map((id) => `/satellites/${id}/rotate-token`),
      null,
    ),
    route(
      "DELETE",
      satellite.map((id) => `/satellites/${id}`),
      null,
    ),
    route("POST", fc.constant("/notification-channels"), "channel"),
    route("POST", fc.constant("/notification-channels"), "email"),
    route("GET", fc.constant("/notification-channels"), null),
    route(
      "GET",
      channel.map((id) => `/notification-channels/${id}`),
      null,
    ),
    route(
      "PATCH",
      channel.map((id) => `/notification-channels/${id}`),
      "channel",
    ),
    route(
      "PATCH",
      channel.map((id) => `/notification-channels/${id}`),
      "email",
    ),
    route(
      "POST",
      channel.map((id) => `/notification-channels/${id}/test`),
      null,
    ),
    route(
      "DELETE",
      channel.map((id) => `/notification-channels/${id}`),
      null,
    ),
    route("POST", fc.constant("/automations/validate"), "automation"),
    route("POST", fc.constant("/automations"), "automation"),
    route("GET", fc.constant("/automations"), null),
    route("GET", fc.constant("/automations/schema"), null),
    route(
      "GET",
      automation.map((id) => `/automations/${id}`),
      null,
    ),
    route(
      "PUT",
      automation.map((id) => `/automations/${id}`),
      "automation",
    ),
    route(
      "POST",
      automation.map((id) => `/automations/${id}/enable`),
      null,
    ),
    route(
      "POST",
      automation.map((id) => `/automations/${id}/disable`),
      null,
    ),
    route(
      "GET",
      fc.tuple(automation, queryString).map(([id, query]) => `/automations/${id}/runs${query}`),
      null,
    ),
    route(
      "GET",
      fc.tuple(automation, queryString).map(([id, query]) => `/automations/${id}/skips${query}`),
      null,
    ),
    route(
      "GET",
      fc.tuple(automation, run).map(([id, runId]) => `/automations/${id}/runs/${runId}`),
      null,
    ),
    route(
      "POST",
      fc.tuple(automation, run).map(([id, runId]) => `/automations/${id}/runs/${runId}/cancel`),
      null,
    ),
    route(
      "POST",
      automation.map((id) => `/automations/${id}/run`),
      "run",
    ),
    route(
      "DELETE",
      automation.map((id) => `/automations/${id}`),
      null,
    ),
    route(
      "GET",
      queryString.map((query) => `/triggers${query}`),
      null,
    ),
    route("POST", fc.constant("/checks"), "check"),
    route(
      "GET",
      queryString.map((query) => `/checks${query}`),
      null,
    ),
    route("GET", fc.constant("/checks/schema"), null),
    route("POST", fc.constant("/config/plan"), "config"),
    route("POST", fc.constant("/config/apply"), "config"),
    route(
      "GET",
      queryString.map((query) => `/config/export${query}`),
      null,
    ),
    route(
      "GET",
      queryString.map((query) => `/config/history${query}`),
      null,
    ),
    route("GET", fc.constant("/config/schema"), null),
    route(
      "GET",
      check.map((id) => `/checks/${id}`),
      null,
    ),
    route(
      "PUT",
      check.map((id) => `/checks/${id}`),
      "check",
    ),
    route(
      "PATCH",
      check.map((id) => `/checks/${id}`),
      "check",
    ),
    route(
      "POST",
      check.map((id) => `/checks/${id}/enable`),
      null,
    ),
    route(
      "POST",
      check.map((id) => `/checks/${id}/disable`),
      null,
    ),
    route(
      "DELETE",
      check.map((id) => `/checks/${id}`),
      null,
    ),
    route(
      "GET",
      fc.tuple(check, fc.constantFrom("incidents", "uptime", "health"), queryString).map(([id, read, query]) => `/checks/${id}/${read}${query}`),
      null,
    ),
    route("POST", fc.constant("/maintenance-windows"), "window"),
    route(
      "GET",
      queryString.map((query) => `/maintenance-windows${query}`),
      null,
    ),
    route(
      "GET",
      window.map((id) => `/maintenance-windows/${id}`),
      null,
    ),
    route(
      "PUT",
      window.map((id) => `/maintenance-windows/${id}`),
      "window",
    ),
    route(
      "DELETE",
      window.map((id) => `/maintenance-windows/${id}`),
      null,
    ),
    route("PUT", fc.constantFrom("/satellites", "/triggers", "/automations/schema", "/checks/schema"), null),
  );
}

async function answer(request: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  if (request.contentType) headers["content-type"] = request.contentType;
  const hasBody = request.body !== undefined && request.method !== "GET";
  const response = await api.app.request(`/api/v1${request.path}`, { method: request.method, headers, body: hasBody ? request.body : undefined });
  return { status: response.status, text: await response.text() };
}

/** A full garbage collection, without starting the worker with --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

describe("the API under hostile input", () => {
  it("never answers 5xx, whatever route, body, content type, id or query it is sent", async () => {
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(requestArbitrary(), async (request) => {
        const { status, text } = await answer(request);
        expect(status, `${request.method} ${request.path} → ${text.slice(0, 500)}`).toBeLessThan(500);
        await replaceDeleted(request, status);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    collectGarbage();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(HEAP_GROWTH_BOUND_BYTES);
  }, 120_000);
});
