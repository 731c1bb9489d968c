// What the core location reads its checks with: the definitions store, a row by id and its
// definition with the sealed credential headers opened (only for the probe that sends them).
import type { CheckStore } from "../definitions/check-store.ts";
import type { CoreCheckSource } from "./core-runs.ts";

export function storeCheckSource(store: Pick<CheckStore, "rows" | "openDefinition">): CoreCheckSource {
  return {
    async find(id) {
      const [row] = await store.rows([id]);
      return row ? { id: row.id, type: row.definition.type, definition: row.definition } : null;
    },
    open: (check) => store.openDefinition(check),
  };
}
