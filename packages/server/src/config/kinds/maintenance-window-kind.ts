// Maintenance windows as bundle resources: the spec is the windows API's body without `name`
// (checks by ids or labels, start, end, recurrence), validated by its own schema and written
// through the MaintenanceWindowStore in the apply's transaction, checks' flags and all.
import { type MaintenanceWindowDefinition, maintenanceWindowSchema, validateInput } from "@vantage/protocol";
import type { MaintenanceWindowStore } from "../../checks/index.ts";
import { omit, type ResourceKindAdapter, type Spec } from "./resource-kind.ts";

export function maintenanceWindowKind(store: MaintenanceWindowStore): ResourceKindAdapter {
  const definitionOf = (name: string, spec: Spec) => ({ ...spec, name }) as unknown as MaintenanceWindowDefinition;
  return {
    kind: "MaintenanceWindow",
    async loadAll(db) {
      return (await store.allRows(db)).map((row) => ({ id: row.id, name: row.definition.name, spec: omit({ ...row.definition }, "name") }));
    },
    async normalize(name, spec) {
      const parsed = validateInput(maintenanceWindowSchema, { ...spec, name }, { root: "the maintenance window" });
      return parsed.ok ? { ok: true, spec: omit({ ...parsed.value }, "name") } : { ok: false, issues: parsed.issues };
    },
    redact: (spec) => spec,
    async create(tx, name, spec, context) {
      return store.createIn(tx, definitionOf(name, spec), context);
    },
    async update(tx, stored, name, spec, context) {
      return { changes: await store.replaceIn(tx, stored.id, definitionOf(name, spec), context) };
    },
    async remove(tx, stored, context) {
      return { changes: await store.removeIn(tx, stored.id, context) };
    },
    announce: (changes) => store.announce(changes),
    labels: (spec) => (spec.checks as { labels?: Record<string, string> } | undefined)?.labels ?? {},
  };
}
