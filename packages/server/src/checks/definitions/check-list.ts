// One page of the checks list: keyset pages in name order, filtered by type, labels, enabled,
// a name prefix and health status, each filter a condition an index serves (see 0014-checks.sql
// and 0022-check-health-status.sql): the name's unique index (collation "C", so a LIKE prefix
// is a range on it), (type, name), the GIN index on labels for containment, and check_health's
// (status, check_id). Each check comes with its health (status, since, reason) in the same
// statement, so a page is one query.
import type { CheckType, HeartbeatCheckDefinition } from "@vantage/protocol";
import type { CheckHealthStatus } from "../health/health-policy.ts";

export const DEFAULT_CHECK_PAGE = 50;
export const MAX_CHECK_PAGE = 500;

export interface CheckListQuery {
  limit: number;
  /** The last name of the previous page. */
  after?: string;
  type?: CheckType | HeartbeatCheckDefinition["type"];
  /** Every one of these labels must hold. */
  labels?: Record<string, string>;
  enabled?: boolean;
  namePrefix?: string;
  /** Only checks in this health status; `unknown` includes checks never evaluated. */
  status?: CheckHealthStatus;
  /** Only checks with a health verdict from this location ("core" or a satellite's id). */
  location?: string;
}

/** The check's health beside its columns (`h` is check_health, joined to `checks`). */
export const HEALTH_COLUMNS = "h.status AS health_status, h.since AS health_since, h.reason AS health_reason";
export const HEALTH_JOIN = "LEFT JOIN check_health h ON h.check_id = checks.id";

/** `%`, `_` and the escape itself stand for themselves in a prefix (LIKE's escape is `\`). */
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** Dispatch table: each filter's condition on its parameter `$n`, and the parameter's value. */
const FILTERS: {
  [Key in Exclude<keyof CheckListQuery, "limit">]-?: (n: number, value: NonNullable<CheckListQuery[Key]>) => [condition: string, param: unknown];
} = {
  after: (n, name) => [`name > $${n}`, name],
  type: (n, type) => [`type = $${n}`, type],
  labels: (n, labels) => [`labels @> $${n}::jsonb`, JSON.stringify(labels)],
  enabled: (n, enabled) => [`enabled = $${n}`, enabled],
  namePrefix: (n, prefix) => [`name LIKE $${n}`, likePrefix(prefix)],
  // A check never evaluated has no row and reads unknown; the other statuses are an index range.
  status: (n, status) => [status === "unknown" ? `(h.status = $${n} OR h.check_id IS NULL)` : `h.status = $${n}`, status],
  // A filter on the joined row, not an index: the name order stops at a page's worth of matches,
  // and most checks run where most others do (a rare location reads further).
  location: (n, location) => [`h.locations ? $${n}`, location],
};

/**
 * The statement of one page. Only the filters given become conditions, so the planner sees
 * each as written (a LIKE prefix needs its pattern known when planning, which an unnamed
 * statement's parameters are).
 */
export function checkPageQuery(columns: string, query: CheckListQuery): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [query.limit];
  for (const [key, filter] of Object.entries(FILTERS) as Array<[keyof typeof FILTERS, (n: number, value: unknown) => [string, unknown]]>) {
    const value = query[key];
    if (value === undefined) continue;
    const [condition, param] = filter(params.length + 1, value);
    conditions.push(condition);
    params.push(param);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
  return { sql: `SELECT ${columns} FROM checks ${HEALTH_JOIN} ${where} ORDER BY name LIMIT $1`, params };
}
