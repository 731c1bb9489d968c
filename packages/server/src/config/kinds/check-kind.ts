// Checks as bundle resources: the spec is the check API's body without `name` — a probed check
// or a heartbeat check —; validated by the API's own validateAnyCheck and written through the
// CheckStore (sealed headers, its notices). A heartbeat check created by an apply gets its ping
// token in the apply's transaction, shown once in the apply's answer as the API's create shows it.
import {
  type AnyCheckDefinition,
  checkSecrets,
  type CheckStore,
  isHeartbeatCheck,
  issuePingToken,
  validateAnyCheck,
  type ValidateCheckOptions,
} from "../../checks/index.ts";
import { issuesOf, omit, type ResourceKindAdapter, type Spec } from "./resource-kind.ts";

export interface CheckKindOptions extends ValidateCheckOptions {
  /** The clock a ping token's issue is stamped with. */
  now: () => number;
}

export function checkKind(store: CheckStore, options: CheckKindOptions): ResourceKindAdapter {
  const definitionOf = (name: string, spec: Spec) => ({ ...spec, name }) as unknown as AnyCheckDefinition;
  return {
    kind: "Check",
    async loadAll(db) {
      const rows = await store.allRows(db);
      return rows.map((row) => ({ id: row.id, name: row.definition.name, spec: omit({ ...store.openDefinition(row) }, "name") }));
    },
    async normalize(name, spec, stored) {
      try {
        const definition = validateAnyCheck({ ...spec, name }, stored ? definitionOf(stored.name, stored.spec) : null, options);
        return { ok: true, spec: omit({ ...definition }, "name") };
      } catch (error) {
        return { ok: false, issues: issuesOf(error) };
      }
    },
    redact: (spec) => checkSecrets.redact(spec),
    async create(tx, name, spec, context) {
      const created = await store.create(definitionOf(name, spec), tx, context);
      return isHeartbeatCheck(created) ? { id: created.id, token: await issuePingToken(tx, created.id, options.now()) } : { id: created.id };
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
