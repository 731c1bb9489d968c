// `entity(kind, id)` as a replay sees it: the state recorded in the outbox as of an instant
// (the `next` of the entity's last change at or before it), never the state now.
import type pg from "pg";
import type { EvaluationContext } from "../expressions/index.ts";

/** Where in history a read stands: the change being judged (its seq), or an instant of the virtual clock. */
export type AsOf = { seq: number } | { at: number };

// Both walk entity_changes_by_entity (kind, entity_id, seq DESC) from the newest change back.
const AS_OF_SEQ = "SELECT next FROM entity_changes WHERE kind = $1 AND entity_id = $2 AND seq <= $3 ORDER BY seq DESC LIMIT 1";
const AS_OF_TIME = "SELECT next FROM entity_changes WHERE kind = $1 AND entity_id = $2 AND occurred_at <= $3 ORDER BY seq DESC LIMIT 1";

export interface HistoricEntities {
  /** A reader for one evaluation: each (kind, id) read once. */
  reader(asOf: AsOf): EvaluationContext["entity"];
}

export function createHistoricEntities(pool: Pick<pg.Pool, "query">): HistoricEntities {
  return {
    reader(asOf) {
      const cache = new Map<string, Promise<Readonly<Record<string, unknown>> | null>>();
      return (kind, id) => {
        const key = JSON.stringify([kind, id]);
        let state = cache.get(key);
        if (!state) {
          const [sql, bound] = "seq" in asOf ? [AS_OF_SEQ, asOf.seq] : [AS_OF_TIME, new Date(asOf.at)];
          state = pool.query<{ next: Record<string, unknown> | null }>(sql, [kind, id, bound]).then(({ rows }) => rows[0]?.next ?? null);
          cache.set(key, state);
        }
        return state;
      };
    },
  };
}
