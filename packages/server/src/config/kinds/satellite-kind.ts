// Satellites as bundle resources: the spec is `{ region, tags?, offlineThresholdMs? }` as the
// registry takes it (never a token: a created satellite's token is shown once, by the apply).
// Edits and deletes are changes of the satellite-connection entity, recorded in the apply.
import { validateInput } from "@vantage/protocol";
import { type SatelliteRegistry, satelliteInputSchemas, type SatelliteService } from "../../satellites/index.ts";
import { omit, type ResourceKindAdapter, type Spec } from "./resource-kind.ts";

const ALL = 1_000_000;

export interface SatelliteKindOptions {
  registry: SatelliteRegistry;
  service: SatelliteService;
  heartbeatIntervalMs: number;
}

export function satelliteKind(options: SatelliteKindOptions): ResourceKindAdapter {
  const { registry } = options;
  const schemas = satelliteInputSchemas(options.heartbeatIntervalMs);
  return {
    kind: "Satellite",
    async loadAll(db) {
      const satellites = await registry.list({ limit: ALL }, db);
      return satellites.map((satellite) => ({
        id: satellite.id,
        name: satellite.name,
        spec: { region: satellite.region, tags: satellite.tags, offlineThresholdMs: satellite.offlineThresholdMs },
      }));
    },
    async normalize(name, spec) {
      const parsed = validateInput(schemas.create, { ...spec, name }, { root: "the satellite" });
      if (!parsed.ok) return { ok: false, issues: parsed.issues };
      const { region, tags, offlineThresholdMs } = parsed.value;
      return { ok: true, spec: { region, tags: tags ?? [], offlineThresholdMs: offlineThresholdMs ?? null } };
    },
    redact: (spec) => spec,
    async create(tx, name, spec) {
      return registry.createIn(tx, { name, ...(spec as Omit<Spec, "name">) } as Parameters<SatelliteRegistry["createIn"]>[1]);
    },
    async update(tx, stored, name, spec, context) {
      return { changes: await registry.updateIn(tx, stored.id, { name, ...omit(spec) }, context) };
    },
    async remove(tx, stored, context) {
      return { changes: await registry.removeIn(tx, stored.id, context) };
    },
    announce: (changes) => options.service.connection.announce(changes),
  };
}
