// Change history over HTTP: GET /api/v1/entities/:kind/:id/changes (one entity, newest first),
// GET /api/v1/changes (every change after a position or instant, in the live stream's order)
// and GET /api/v1/changes/caused-by/:type/:id (what a run or a request changed, newest first).
import { Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../errors.ts";
import { nextCursor, readQuery } from "../http/index.ts";
import { changesAfter, changesOfCause, entityChanges, type HistoryChange } from "./change-history.ts";
import { OUTBOX_START, type OutboxPosition, positionBefore, positionOfSeq } from "./outbox-pages.ts";
import { limitSchema, parseKinds, seqSchema } from "./query-params.ts";

const newestFirstQuery = z.strictObject({
  limit: limitSchema,
  /** The previous page's `next`: changes older than that seq. */
  before: seqSchema.optional(),
});

const changesQuery = z.strictObject({
  kind: z.string().optional(),
  /** A change's seq (an event id, the previous page's `next`): changes after it; or an instant: changes from it. */
  since: z.union([seqSchema, z.iso.datetime({ offset: true }).transform((text) => new Date(text))]).optional(),
  limit: limitSchema,
});

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

  entities.get("/:kind/:id/changes", async (c) => {
    const kind = c.req.param("kind");
    if (![...kinds()].includes(kind)) throw entityKindNotFound(kind, kinds());
    const query = readQuery(c.req.query(), newestFirstQuery);
    return c.json(page(await entityChanges(pool, kind, c.req.param("id"), query), query.limit));
  });

  changes.get("/", async (c) => {
    const query = readQuery(c.req.query(), changesQuery);
    const kindSet = parseKinds(query.kind, kinds());
    const start = await startOf(pool, query.since);
    const found = start ? await changesAfter(pool, start, { kinds: kindSet && [...kindSet], limit: query.limit }) : [];
    return c.json(page(found, query.limit));
  });

  changes.get("/caused-by/:type/:id", async (c) => {
    const query = readQuery(c.req.query(), newestFirstQuery);
    return c.json(page(await changesOfCause(pool, { type: c.req.param("type"), id: c.req.param("id") }, query), query.limit));
  });

  return { entities, changes };
}
