// What the core location reads its checks with until the definitions store is wired into
// startChecks: definitions straight from `checks`. A definition with a sealed header cannot be
// opened here (only the store holds the key's use for them), so such a check runs as `error`;
// the store's `rows` and `openDefinition` replace this source, and this file goes.
import { type CheckDefinition, canonicalUuid, checkDefinitionSchema } from "@vantage/protocol";
import type pg from "pg";
import type { CoreCheckSource, StoredCheck } from "./core-runs.ts";

const SELECT_CHECK = "SELECT id, type, definition FROM checks WHERE id = $1";

/** Definitions as stored; one with a sealed header runs as `error` (definition_unreadable). */
export function standInCheckSource(pool: Pick<pg.Pool, "query">): CoreCheckSource {
  return {
    async find(id) {
      const canonical = canonicalUuid(id);
      if (canonical === undefined) return null;
      return (await pool.query<StoredCheck>(SELECT_CHECK, [canonical])).rows[0] ?? null;
    },
    open(check): CheckDefinition {
      const parsed = checkDefinitionSchema.safeParse(check.definition);
      if (parsed.success) return parsed.data;
      throw new Error(`it does not read as a check definition (${parsed.error.issues[0]?.message}); sealed headers are opened only by the definitions store`);
    },
  };
}
