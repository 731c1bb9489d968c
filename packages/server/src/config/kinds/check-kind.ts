// Checks as bundle resources: the spec is the check API's body without `name`; validated by the
// API's own validateCheck and written through the CheckStore (sealed headers, its notices).
import type { CheckDefinition } from "@vantage/protocol";
import { checkSecrets, type CheckStore, validateCheck, type ValidateCheckOptions } from "../../checks/index.ts";
import { issuesOf, omit, type ResourceKindAdapter, type Spec } from "./resource-kind.ts";

export function checkKind(store: CheckStore, options: ValidateCheckOptions): ResourceKindAdapter {
  const definitionOf = (name: string, spec: Spec) => ({ ...spec, name }) as unknown as CheckDefinition;
  return {
    kind: "Check",
    async loadAll(db) {
      const rows = await store.allRows(db);
      return rows.map((row) => ({ id: row.id, name: row.definition.name, spec: omit({ ...store.openDefinition(row) }, "name") }));
    },
    async normalize(name, spec, stored) {
      try {
        const definition = validateCheck({ ...spec, name }, stored ? definitionOf(stored.name, stored.spec) : null, options);
        return { ok: true, spec: omit({ ...definition }, "name") };
      } catch (error) {
        return { ok: false, issues: issuesOf(error) };
      }
    },
    redact: (spec) => checkSecrets.redact(spec),
    async create(tx, name, spec, context) {
      return { id: (await store.create(definitionOf(name, spec), tx, context)).id };
    },
    async update(tx, stored, name, spec, context) {
      await store.edit(stored.id, () => definitionOf(name, spec), tx, context);
      return {};
    },
    async remove(tx, stored, context) {
      await store.remove(stored.id, tx, context);
      return {};
    },
    announce: () => undefined,
    labels: (spec) => (spec.labels ?? {}) as Record<string, string>,
  };
}
