// Change history over HTTP: GET /api/v1/entities/:kind/:id/changes (one entity, newest first),
// GET /api/v1/changes (every change after a position or instant, in the live stream's order)
// GET /api/v1/changes/latest (the newest changes of some kinds: the overview's events feed) and
// GET /api/v1/changes/caused-by/:type/:id (what a run or a request changed, newest first).
import { Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../errors.ts";
import { entityChangedSchema } from "@vantage/protocol";
import { describeRoute, nextCursor, readQuery } from "../http/index.ts";
import { changesAfter, changesOfCause, entityChanges, type HistoryChange, latestChanges } from "./change-history.ts";
import { OUTBOX_START, type OutboxPosition, positionBefore, positionOfSeq } from "./outbox-pages.ts";
import { limitSchema, parseKinds, seqSchema } from "./query-params.ts";

const newestFirstQuery = z.strictObject({
  limit: limitSchema,
  /** The previous page's `next`: changes older than that seq. */
  before: seqSchema.optional().describe("The previous page's `next`: changes older than that seq."),
});

const changesQuery = z.strictObject({
  kind: z.string().optional().describe("Entity kinds, comma-separated; all when absent."),
  /** A change's seq (an event id, the previous page's `next`): changes after it; or an instant: changes from it. */
  since: z
    .union([seqSchema, z.iso.datetime({ offset: true }).transform((text) => new Date(text))])
    .optional()
    .describe("A change's seq (an event id, the previous page's `next`): changes after it; or an ISO instant: changes from it."),
  limit: limitSchema,
});

const latestQuery = newestFirstQuery.extend({ kind: z.string().optional().describe("Entity kinds, comma-separated; all when absent.") });

const caused = z.object({ id: z.string(), automationId: z.string(), triggerId: z.string(), event: z.string(), createdAt: z.string() });
const changePageSchema = z.object({
  changes: z.array(
    entityChangedSchema.extend({
      seq: z.number().int(),
      changeId: z.string(),
      caused: z
        .object({ runs: z.array(caused.extend({ status: z.string() })), skips: z.array(caused.extend({ reason: z.string() })) })
        .describe("The automation runs the change started and the skips it recorded."),
      causedByRun: z
        .object({ id: z.string(), automationId: z.string(), status: z.string() })
        .nullable()
        .describe("The automation run whose step made the change (its trace: GET /api/v1/automations/{automationId}/runs/{id}); null when no run did."),
    }),
  ),
  next: z.string().nullable().describe("The cursor of the next page; null on the last."),
});

const docs = {
  entity: describeRoute({
    summary: "One entity's changes",
    description: "Newest first, in keyset pages: each with prev, next, changed fields, actor, cause and what it caused.",
    params: z.object({
      kind: z.string().describe("An entity kind, e.g. `check-health`."),
      id: z.string().describe("The entity's id (a check's or a satellite's)."),
    }),
    query: newestFirstQuery,
    responses: { 200: { description: "A page", schema: changePageSchema } },
    errors: { 404: "No such entity kind (`entity_kind_not_found`)." },
    examples: { health: { summary: "A check's health history", params: { kind: "check-health", id: "0b7a8a8e-4a8c-4f43-9d43-0d6f0a3c2b11" } } },
  }),
  changes: describeRoute({
    summary: "Changes across entities",
    description: "In the live stream's order, after a position or from an instant, in pages.",
    query: changesQuery,
    responses: { 200: { description: "A page", schema: changePageSchema } },
    errors: { 400: "The query is invalid, or `since` names a change no longer kept (`change_not_retained`)." },
    examples: { health: { summary: "Health changes since an instant", query: { kind: "check-health", since: "2026-01-01T00:00:00Z" } } },
  }),
  latest: describeRoute({
    summary: "The newest changes",
    description: "Newest first across entities (of the kinds asked), each with what it caused: the events feed. Page back with `before`.",
    query: latestQuery,
    responses: { 200: { description: "A page", schema: changePageSchema } },
    errors: { 400: "The query is invalid or names an unknown kind." },
    examples: { feed: { summary: "The latest health and satellite changes", query: { kind: "check-health,satellite-connection", limit: "20" } } },
  }),
  causedBy: describeRoute({
    summary: "What a run or a request changed",
    description: "The changes whose cause is the given one (an automation run, an API request), newest first.",
    params: z.object({
      type: z.string().describe("`automation-run` or `api-request`."),
      id: z.string().describe("The run's id or the request's id (X-Request-Id)."),
    }),
    query: newestFirstQuery,
    responses: { 200: { description: "A page", schema: changePageSchema } },
    examples: { run: { summary: "What a run changed", params: { type: "automation-run", id: "0b7a8a8e-4a8c-4f43-9d43-0d6f0a3c2b11" } } },
  }),
};

export interface HistoryRoutesOptions {
  pool: pg.Pool;
  /** The entity kinds defined on this core. */
  kinds: () => Iterable<string>;
}

const page = (changes: HistoryChange[], limit: number) => ({ changes, next: nextCursor(changes, limit, (change) => String(change.seq)) });

function entityKindNotFound(kind: string, known: Iterable<string>): VantageError {
  return new VantageError("not_found", "entity_kind_not_found", `No entity kind "${kind}"; known kinds: ${[...known].join(", ") || "(none)"}.`);
}

/** Where GET /changes starts: after a seq the outbox holds, just before an instant, or at the start. */
async function startOf(pool: pg.Pool, since: number | Date | undefined): Promise<OutboxPosition | null> {
  if (since === undefined) return OUTBOX_START;
  if (since instanceof Date) return positionBefore(pool, since);
  const position = await positionOfSeq(pool, since);
  if (!position) {
    throw new VantageError(
      "invalid_input",
      "change_not_retained",
      `Change ${since} is not in the outbox (no longer kept, or never recorded here); start again with since=<an ISO instant>.`,
    );
  }
  return position;
}

export function createHistoryRoutes(options: HistoryRoutesOptions): { entities: Hono; changes: Hono } {
  const { pool, kinds } = options;
  const entities = new Hono();
  const changes = new Hono();

  entities.get("/:kind/:id/changes", docs.entity, async (c) => {
    const kind = c.req.param("kind");
    if (![...kinds()].includes(kind)) throw entityKindNotFound(kind, kinds());
    const query = readQuery(c.req.query(), newestFirstQuery);
    return c.json(page(await entityChanges(pool, kind, c.req.param("id"), query), query.limit));
  });

  changes.get("/", docs.changes, async (c) => {
    const query = readQuery(c.req.query(), changesQuery);
    const kindSet = parseKinds(query.kind, kinds());
    const start = await startOf(pool, query.since);
    const found = start ? await changesAfter(pool, start, { kinds: kindSet && [...kindSet], limit: query.limit }) : [];
    return c.json(page(found, query.limit));
  });

  // Before /caused-by and any other path under /changes.
  changes.get("/latest", docs.latest, async (c) => {
    const query = readQuery(c.req.query(), latestQuery);
    const kindSet = parseKinds(query.kind, kinds());
    return c.json(page(await latestChanges(pool, { kinds: kindSet ? [...kindSet] : null, before: query.before, limit: query.limit }), query.limit));
  });

  changes.get("/caused-by/:type/:id", docs.causedBy, async (c) => {
    const query = readQuery(c.req.query(), newestFirstQuery);
    return c.json(page(await changesOfCause(pool, { type: c.req.param("type"), id: c.req.param("id") }, query), query.limit));
  });

  return { entities, changes };
}
