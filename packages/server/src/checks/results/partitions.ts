// The time partitions of the results tables: their names and ranges (UTC), the catalog of
// those that exist, and the DDL that attaches a new one or drops an old one without blocking
// ingest (ATTACH and DETACH … CONCURRENTLY lock the parent only against other DDL).
import type pg from "pg";
import type { Logger } from "../../log.ts";
import { ADVISORY_NAMESPACE, AdvisoryLock } from "../../storage/index.ts";
import type { ResultRetention } from "./check-result.ts";

export type PartitionSpan = "day" | "month" | "year";
export type ResultLevel = "raw" | "1m" | "1h" | "1d";

export interface PartitionedTable {
  level: ResultLevel;
  table: string;
  span: PartitionSpan;
  retention: keyof ResultRetention;
}

/** Raw and 1-minute rows by day, hours by month, days by year: a few dozen partitions each. */
export const RESULT_TABLES: Readonly<Record<ResultLevel, PartitionedTable>> = {
  raw: { level: "raw", table: "check_results", span: "day", retention: "rawDays" },
  "1m": { level: "1m", table: "check_rollups_1m", span: "day", retention: "rollup1mDays" },
  "1h": { level: "1h", table: "check_rollups_1h", span: "month", retention: "rollup1hDays" },
  "1d": { level: "1d", table: "check_rollups_1d", span: "year", retention: "rollup1dDays" },
};

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Start (epoch ms, UTC) of the partition holding `at`. */
export function partitionStart(span: PartitionSpan, at: number): number {
  // A UTC day is always DAY_MS long (no DST, no leap seconds in epoch time): no Date needed,
  // and ingest asks this for every result it stores.
  if (span === "day") return Math.floor(at / DAY_MS) * DAY_MS;
  const date = new Date(at);
  const year = date.getUTCFullYear();
  if (span === "year") return Date.UTC(year, 0, 1);
  return Date.UTC(year, date.getUTCMonth(), 1);
}

/** Start of the partition after the one starting at `start`. */
export function nextPartitionStart(span: PartitionSpan, start: number): number {
  const date = new Date(start);
  if (span === "year") return Date.UTC(date.getUTCFullYear() + 1, 0, 1);
  if (span === "month") return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return start + DAY_MS;
}

/** `check_results_20250131`, `check_rollups_1h_202501`, `check_rollups_1d_2025`. */
export function partitionName(table: PartitionedTable, start: number): string {
  const iso = new Date(start).toISOString();
  const digits = { day: 10, month: 7, year: 4 }[table.span];
  return `${table.table}_${iso.slice(0, digits).replaceAll("-", "")}`;
}

const SUFFIX = { day: /^(\d{4})(\d{2})(\d{2})$/, month: /^(\d{4})(\d{2})$/, year: /^(\d{4})$/ } as const;

/** The start of a partition from its name, or null for a name we did not make. */
export function partitionStartOf(table: PartitionedTable, name: string): number | null {
  if (!name.startsWith(`${table.table}_`)) return null;
  const match = SUFFIX[table.span].exec(name.slice(table.table.length + 1));
  if (!match) return null;
  return Date.UTC(Number(match[1]), Number(match[2] ?? 1) - 1, Number(match[3] ?? 1));
}

/**
 * Whether a partition starting at `start` is past the table's retention at `now`: the whole
 * partition is older than the retention. Ingest drops results of such days by the same rule,
 * so it never writes into a partition the maintainer is about to drop.
 */
export function isExpired(table: PartitionedTable, start: number, retention: ResultRetention, now: number): boolean {
  return nextPartitionStart(table.span, start) <= now - retention[table.retention] * DAY_MS;
}

/**
 * The start of the oldest partition of `table` not expired at `now` (see isExpired): the one
 * holding the retention's cutoff, which ends after it; every partition before it ends at or
 * before the cutoff. A time `at` is in an expired partition exactly when `at` is before this:
 * one comparison per result instead of a partition computation each.
 */
export function keptFrom(table: PartitionedTable, retention: ResultRetention, now: number): number {
  return partitionStart(table.span, now - retention[table.retention] * DAY_MS);
}

export interface PartitionInfo {
  name: string;
  start: number;
  /** A DETACH … CONCURRENTLY that was interrupted: finish it before dropping. */
  detachPending: boolean;
}

const LIST_PARTITIONS = `
  SELECT c.relname AS name, i.inhdetachpending AS detach_pending
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = $1::regclass`;

/** A partition DDL waits at most this long for its lock, then fails and is retried later. */
const DDL_LOCK_TIMEOUT = "2s";

type Queryable = Pick<pg.ClientBase, "query">;

export async function listPartitions(db: Queryable, table: PartitionedTable): Promise<PartitionInfo[]> {
  const { rows } = await db.query<{ name: string; detach_pending: boolean }>(LIST_PARTITIONS, [table.table]);
  const partitions: PartitionInfo[] = [];
  for (const row of rows) {
    const start = partitionStartOf(table, row.name);
    if (start !== null) partitions.push({ name: row.name, start, detachPending: row.detach_pending });
  }
  return partitions.sort((a, b) => a.start - b.start);
}

export interface PartitionCatalog {
  /**
   * Makes sure the partitions holding every time in `times` exist; creates the missing ones
   * in a short transaction of their own (so never inside a caller's transaction). Returns the
   * names it created.
   */
  ensure(level: ResultLevel, times: Iterable<number>): Promise<string[]>;
  /** Forgets what this process believes exists (after dropping partitions). */
  forget(level: ResultLevel, start: number): void;
}

/**
 * One per process: remembers which partitions exist so that ingest checks a Set, not the
 * catalog, for every batch. A partition another process dropped is only ever an expired one,
 * which ingest refuses anyway.
 */
export function createPartitionCatalog(options: { pool: pg.Pool; logger: Logger }): PartitionCatalog {
  const { pool } = options;
  const log = options.logger.child({ component: "check-result-partitions" });
  const known = new Map<ResultLevel, Set<number>>();
  const knownOf = (level: ResultLevel) => known.get(level) ?? known.set(level, new Set()).get(level)!;

  const create = async (table: PartitionedTable, starts: number[]): Promise<string[]> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
      await client.query("SELECT pg_advisory_xact_lock($1, $2)", [ADVISORY_NAMESPACE, AdvisoryLock.checkPartitionCreate]);
      const existing = new Set((await listPartitions(client, table)).map((partition) => partition.start));
      const created: string[] = [];
      for (const start of starts) {
        if (existing.has(start)) continue;
        const name = partitionName(table, start);
        const from = new Date(start).toISOString();
        const to = new Date(nextPartitionStart(table.span, start)).toISOString();
        // A plain table attached afterwards: CREATE … PARTITION OF would take an ACCESS
        // EXCLUSIVE lock on the parent and stall every ingest and read until commit. ATTACH
        // builds the partition's indexes (on an empty table: instantly).
        await client.query(`CREATE TABLE ${name} (LIKE ${table.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await client.query(`ALTER TABLE ${table.table} ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
        created.push(name);
      }
      await client.query("COMMIT");
      return created;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      client.release(broken);
    }
  };

  return {
    async ensure(level, times) {
      const table = RESULT_TABLES[level];
      const have = knownOf(level);
      const missing = new Set<number>();
      for (const at of times) {
        const start = partitionStart(table.span, at);
        if (!have.has(start)) missing.add(start);
      }
      if (missing.size === 0) return [];
      for (const partition of await listPartitions(pool, table)) if (!partition.detachPending) have.add(partition.start);
      const toCreate = [...missing].filter((start) => !have.has(start)).sort((a, b) => a - b);
      if (toCreate.length === 0) return [];
      const created = await create(table, toCreate);
      for (const start of toCreate) have.add(start);
      if (created.length > 0) log.info({ partitions: created }, "created check result partitions");
      return created;
    },
    forget(level, start) {
      knownOf(level).delete(start);
    },
  };
}

/**
 * Drops one partition without blocking ingest: DETACH … CONCURRENTLY (it cannot run inside a
 * transaction, and waits for transactions that may still read the partition), then DROP of
 * what is now a plain table. One interrupted earlier is finished with FINALIZE first.
 */
export async function dropPartition(client: pg.ClientBase, table: PartitionedTable, partition: PartitionInfo): Promise<void> {
  await client.query(`SET lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
  try {
    const mode = partition.detachPending ? "FINALIZE" : "CONCURRENTLY";
    await client.query(`ALTER TABLE ${table.table} DETACH PARTITION ${partition.name} ${mode}`);
    await client.query(`DROP TABLE ${partition.name}`);
  } finally {
    await client.query("RESET lock_timeout");
  }
}
