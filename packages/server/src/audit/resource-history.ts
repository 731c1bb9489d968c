// A resource's audit trail over HTTP: `GET /:id/history` on each audited module's routes, newest
// first, keyset pages on `seq` (index resource_changes_by_resource). Changed field names only.
import { actorSchema, causeSchema } from "@vantage/protocol";
import type { Context, Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import type { VantageError } from "../errors.ts";
import { describeRoute, nextCursor, pathId, readQuery } from "../http/index.ts";
import { type AuditedKind, RESOURCE_ACTIONS } from "./resource-changes.ts";

export const DEFAULT_HISTORY_PAGE = 50;
export const MAX_HISTORY_PAGE = 500;

const historyQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE).default(DEFAULT_HISTORY_PAGE),
  before: z
    .string()
    .regex(/^\d{1,15}$/, "must be the previous page's `next`: a whole number")
    .optional()
    .describe("The previous page's `next`: changes older than that."),
});

export const resourceChangeSchema = z.object({
  seq: z.string().describe("The change's position in the trail (a whole number, as text)."),
  action: z.enum(RESOURCE_ACTIONS),
  revision: z.number().int().nullable().describe("The resource's version after the change, where it keeps one."),
  changedFields: z.array(z.string()).describe("Top-level fields the change set or altered (names only: no values, so no secret)."),
  actor: actorSchema,
  cause: causeSchema.nullable(),
  occurredAt: z.string(),
});
export type ResourceChangeView = z.infer<typeof resourceChangeSchema>;

const historyPageSchema = z.object({
  changes: z.array(resourceChangeSchema),
  next: z.string().nullable().describe("The `before` of the next page; null on the last."),
});

interface HistoryRow {
  seq: string;
  action: ResourceChangeView["action"];
  revision: number | null;
  changed_fields: string[];
  actor: ResourceChangeView["actor"];
  cause: ResourceChangeView["cause"];
  occurred_at: Date;
}

// `$3::bigint IS NULL OR`: one statement for both pages, still one index range (kind, id, seq DESC).
const SELECT_HISTORY = `SELECT seq::text, action, revision, changed_fields, actor, cause, occurred_at
FROM resource_changes
WHERE kind = $1 AND resource_id = $2 AND ($3::bigint IS NULL OR seq < $3::bigint)
ORDER BY seq DESC LIMIT $4`;

/** One page of a resource's changes, newest first. */
export async function resourceHistory(
  db: pg.Pool | pg.PoolClient,
  kind: AuditedKind,
  id: string,
  page: { limit: number; before?: string },
): Promise<{ changes: ResourceChangeView[]; next: string | null }> {
  const { rows } = await db.query<HistoryRow>(SELECT_HISTORY, [kind, id, page.before ?? null, page.limit]);
  const changes = rows.map((row) => ({
    seq: row.seq,
    action: row.action,
    revision: row.revision,
    changedFields: row.changed_fields,
    actor: row.actor,
    cause: row.cause,
    occurredAt: row.occurred_at.toISOString(),
  }));
  return { changes, next: nextCursor(changes, page.limit, (change) => change.seq) };
}

export interface HistoryRouteOptions {
  /** Where the trail is read (the store's pool). */
  pool: pg.Pool;
  kind: AuditedKind;
  /** What the reference calls the resource ("check", "automation", …). */
  noun: string;
  notFound: (id: string) => VantageError;
  /** Throws `notFound` unless the resource exists: an empty trail of an unknown id is a 404. */
  assertExists: (id: string) => Promise<unknown>;
}

/** Adds `GET /:id/history` to a module's routes. A deleted resource's trail stays readable. */
export function addHistoryRoute(routes: Hono, options: HistoryRouteOptions): void {
  const { pool, kind, noun } = options;
  routes.get(
    "/:id/history",
    describeRoute({
      summary: `A ${noun}'s history`,
      description: `Who created, changed, enabled, disabled or deleted the ${noun}, when and why (\`cause\`: the API request, or the config apply), newest first. Only the names of changed fields are kept: no value, so no secret.`,
      query: historyQuerySchema,
      responses: { 200: { description: "One page of changes", schema: historyPageSchema } },
      examples: { latest: { summary: "The latest changes" } },
    }),
    async (c: Context) => {
      const id = pathId(c, "id", options.notFound);
      const query = readQuery(c.req.query(), historyQuerySchema);
      const page = await resourceHistory(pool, kind, id, query);
      // Resources older than the trail have none: they exist, so their page is empty, not a 404.
      if (page.changes.length === 0 && query.before === undefined) await options.assertExists(id);
      return c.json(page);
    },
  );
}
