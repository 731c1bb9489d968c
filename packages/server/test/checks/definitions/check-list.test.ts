// Proves every filter of the checks list is served by an index the planner picks on its own over 10,000 checks: no page reads the whole table.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckListQuery, checkPageQuery } from "../../../src/checks/definitions/check-list.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = new pg.Pool({ connectionString: url, max: 2 });
  // Realistic spreads: four types, one team label on 1 check in 1,000, one check in 10 disabled.
  await pool.query(`
    INSERT INTO checks (name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, definition)
    SELECT 'check-' || lpad(n::text, 5, '0'), (ARRAY['http', 'tcp', 'dns', 'tls'])[n % 4 + 1], n % 10 <> 0, 60, 10000,
           CASE WHEN n % 1000 = 0 THEN '{"team": "db", "env": "prod"}' ELSE '{"env": "prod"}' END::jsonb, true, '{}'
    FROM generate_series(1, 10000) AS n`);
  // Health for every check: one in 1,000 unhealthy.
  await pool.query(`
    INSERT INTO check_health (check_id, status, since, reason, evaluated_at)
    SELECT id, CASE WHEN right(name, 3) = '500' THEN 'unhealthy' ELSE 'healthy' END, now(), '', now() FROM checks`);
  await pool.query("ANALYZE checks");
  await pool.query("ANALYZE check_health");
});

afterAll(async () => {
  await pool?.end();
});

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Index Cond"?: string;
  Plans?: PlanNode[];
}

/** The plan of the page's statement, with the parameters bound as the store sends them. */
async function planOf(query: CheckListQuery): Promise<PlanNode[]> {
  const { sql, params } = checkPageQuery("id", query);
  const { rows } = await pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const nodes: PlanNode[] = [];
  const visit = (node: PlanNode) => {
    nodes.push(node);
    node.Plans?.forEach(visit);
  };
  visit(rows[0]!["QUERY PLAN"][0]!.Plan);
  return nodes;
}

const scans = (nodes: PlanNode[]) => nodes.filter((node) => node["Node Type"].includes("Scan"));

describe("the checks list's statement", () => {
  it("reads a page in name order from the name index, starting after the cursor", async () => {
    const nodes = scans(await planOf({ limit: 50, after: "check-05000" }));
    expect(nodes).toEqual([
      expect.objectContaining({ "Node Type": "Index Scan", "Index Name": "checks_name_key", "Index Cond": expect.stringContaining("name >") }),
    ]);
  });

  it("turns a name prefix into a range of the name index", async () => {
    const nodes = scans(await planOf({ limit: 50, namePrefix: "check-012" }));
    expect(nodes).toEqual([
      expect.objectContaining({ "Node Type": "Index Scan", "Index Name": "checks_name_key", "Index Cond": expect.stringMatching(/name >= .*name < /) }),
    ]);
  });

  it("finds the checks with rare labels through the labels index", async () => {
    const nodes = scans(await planOf({ limit: 50, labels: { team: "db" } }));
    expect(nodes).toContainEqual(expect.objectContaining({ "Node Type": "Bitmap Index Scan", "Index Name": "checks_labels" }));
  });

  it("finds the checks in a rare health status through check_health's status index", async () => {
    const nodes = scans(await planOf({ limit: 50, status: "unhealthy" }));
    expect(nodes).toContainEqual(expect.objectContaining({ "Index Name": "check_health_by_status" }));
    expect(nodes.map((node) => node["Node Type"])).not.toContain("Seq Scan");
  });

  it("keeps the checks observed from a location, in name order", async () => {
    await pool.query(
      `UPDATE check_health SET locations = '{"sat-1": {"status": "healthy"}}' WHERE check_id IN (SELECT id FROM checks WHERE name IN ('check-00002', 'check-00007'))`,
    );
    const { sql, params } = checkPageQuery("name", { limit: 50, location: "sat-1" });
    expect((await pool.query<{ name: string }>(sql, params)).rows.map((row) => row.name)).toEqual(["check-00002", "check-00007"]);
    const none = checkPageQuery("name", { limit: 50, location: "sat-2" });
    expect((await pool.query(none.sql, none.params)).rows).toEqual([]);
  });

  it("never reads the whole table, whatever filters combine", async () => {
    const queries: CheckListQuery[] = [
      { limit: 50 },
      { limit: 500, type: "tls" },
      { limit: 50, type: "dns", after: "check-09000" },
      { limit: 50, enabled: false },
      { limit: 50, labels: { env: "prod" }, namePrefix: "check-1" },
      { limit: 50, type: "http", labels: { team: "db" }, enabled: true, namePrefix: "check-0" },
      { limit: 50, status: "healthy" },
      { limit: 50, status: "unhealthy", type: "tcp" },
    ];
    for (const query of queries) {
      const nodes = scans(await planOf(query));
      expect(
        nodes.map((node) => node["Node Type"]),
        JSON.stringify(query),
      ).not.toContain("Seq Scan");
    }
  });
});
