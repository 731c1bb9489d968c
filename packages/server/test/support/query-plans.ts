// What the planner makes of a statement: how each scan of one table reads it (an index's name,
// or the node type: a Seq Scan), in the custom plan of given values and in the generic plan a
// prepared statement settles on after five calls (EXPLAIN (GENERIC_PLAN)).
import type pg from "pg";
import { expect } from "vitest";
import type { SqlClient } from "../../src/entities/index.ts";

export interface TableReads {
  custom: string[];
  generic: string[];
}

type PlanNode = { "Node Type": string; "Relation Name"?: string; "Index Name"?: string; Plans?: PlanNode[] };

/** The indexes a bitmap heap scan's bitmap is built from (its Bitmap Index Scans, under any BitmapOr/And). */
const bitmapIndexes = (node: PlanNode): string[] => [...(node["Index Name"] ? [node["Index Name"]] : []), ...(node.Plans ?? []).flatMap(bitmapIndexes)];

function scansOf(node: PlanNode, table: string): string[] {
  if (node["Relation Name"] === table && node["Node Type"] === "Bitmap Heap Scan") return (node.Plans ?? []).flatMap(bitmapIndexes);
  const scans = node["Relation Name"] === table && node["Node Type"].endsWith("Scan");
  const own = scans ? [node["Index Name"] ?? node["Node Type"]] : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => scansOf(child, table))];
}

/** The reads of `table` in the plans of `text`, custom (with `values`) and generic. */
export async function plannedReads(pool: pg.Pool, table: string, text: string, values: readonly unknown[]): Promise<TableReads> {
  const explain = async (options: string, params: readonly unknown[]) => {
    const { rows } = await pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (${options}) ${text}`, [...params]);
    return scansOf(rows[0]!["QUERY PLAN"][0]!.Plan, table);
  };
  return { custom: await explain("FORMAT JSON", values), generic: await explain("FORMAT JSON, GENERIC_PLAN", []) };
}

/**
 * A client that plans each statement it is sent instead of running it, keeps the reads of `table`,
 * and answers `rows` (what the code under test expects back).
 */
export function planningClient(pool: pg.Pool, table: string, rows: readonly object[] = []): { client: SqlClient; reads: TableReads[] } {
  const reads: TableReads[] = [];
  const client = {
    query: async (text: string, values: unknown[] = []) => {
      reads.push(await plannedReads(pool, table, text, values));
      return { rows: [...rows], rowCount: 0 };
    },
  } as unknown as SqlClient;
  return { client, reads };
}

/**
 * Both plans read the table, never through `avoided` (partial indexes), and at least once through
 * `key` (a scan of the whole table is the planner's right for the small tables of a test).
 */
export function expectKeyedReads(reads: TableReads, avoided: readonly string[], key: string): void {
  expect(reads.custom.length).toBeGreaterThan(0);
  expect(reads.generic.length).toBeGreaterThan(0);
  const all = [...reads.custom, ...reads.generic];
  for (const read of all) expect(avoided).not.toContain(read);
  expect(all).toContain(key);
}
