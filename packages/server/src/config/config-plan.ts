// The plan of a bundle against the current state: each resource matched by (kind, name) — or by
// its previousName, a rename — normalized by its kind as the API would store it, and compared
// field by field; drift where an owned resource's spec no longer hashes as last applied; the
// owned resources the bundle no longer holds, deleted (prune) or released (detach). The whole
// bundle is validated before anything is planned: every issue at `resources.<i>.…`.
import { createHash } from "node:crypto";
import { type ConfigPlan, type configRequestSchema, type Issue, type PlannedChange, RESOURCE_KINDS, type ResourceKind } from "@vantage/protocol";
import type pg from "pg";
import type { z } from "zod";
import { canonicalJson } from "../entities/index.ts";
import { invalidInput } from "../errors.ts";
import { diffFields } from "./field-diff.ts";
import type { ResourceKindAdapter, Spec, StoredResource } from "./kinds/resource-kind.ts";
import { loadOwnership, type Ownership, specHash } from "./ownership-store.ts";

/** A plan or apply request as the protocol's schema parsed it. */
export type ParsedConfigRequest = z.infer<typeof configRequestSchema>;

export type Adapters = ReadonlyMap<ResourceKind, ResourceKindAdapter>;

/** One planned change with what the apply needs to carry it out. */
export interface PlanStep {
  change: PlannedChange;
  adapter: ResourceKindAdapter;
  stored: StoredResource | null;
  /** The normalized spec to write (creates, updates, no-ops). */
  spec: Spec | null;
}

export interface ComputedPlan {
  plan: ConfigPlan;
  /** In the order an apply writes them: deletes (dependents first), then the rest (dependencies first). */
  steps: PlanStep[];
  /** Owned rows whose resource is gone (deleted through the API): released by the next apply. */
  vanished: Ownership[];
}

const kindOrder = (kind: ResourceKind): number => RESOURCE_KINDS.indexOf(kind);

function stepOrder(step: PlanStep): number {
  const order = kindOrder(step.change.kind);
  return step.change.action === "delete" ? -1_000 - order : order;
}

const prefixed = (index: number, issues: readonly Issue[]): Issue[] =>
  issues.map((issue) => ({ ...issue, path: issue.path === "" ? `resources.${index}.spec` : `resources.${index}.spec.${issue.path}` }));

function duplicateIssues(request: ParsedConfigRequest): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  request.resources.forEach((resource, index) => {
    for (const [field, name] of [
      ["name", resource.name],
      ["previousName", resource.previousName],
    ] as const) {
      if (name === undefined) continue;
      const key = `${resource.kind}\u0000${name}`;
      const first = seen.get(key);
      if (first !== undefined) issues.push({ path: `resources.${index}.${field}`, message: `${resource.kind} "${name}" is also named by resource ${first}` });
      else seen.set(key, index);
    }
  });
  if (request.prune && request.detach)
    issues.push({ path: "detach", message: "prune and detach exclude each other: choose what happens to the resources the bundle dropped" });
  return issues;
}

/**
 * Reads the state through `db` and plans `request` against it; throws invalid_bundle listing
 * every issue, `known` ones (found before, e.g. unresolved secrets) among them.
 */
export async function computePlan(
  db: pg.Pool | pg.PoolClient,
  request: ParsedConfigRequest,
  adapters: Adapters,
  known: readonly Issue[] = [],
): Promise<ComputedPlan> {
  const issues = [...known, ...duplicateIssues(request)];
  const stored = new Map<ResourceKind, StoredResource[]>();
  for (const kind of RESOURCE_KINDS) stored.set(kind, await adapters.get(kind)!.loadAll(db));
  const ownership = await loadOwnership(db);
  const ownerOf = new Map(ownership.map((row) => [`${row.kind}\u0000${row.resourceId}`, row]));
  const names = new Map<ResourceKind, Set<string>>(RESOURCE_KINDS.map((kind) => [kind, new Set()]));
  for (const resource of request.resources) names.get(resource.kind)!.add(resource.name);

  const steps: PlanStep[] = [];
  const matched = new Set<string>();
  for (const [index, resource] of request.resources.entries()) {
    const adapter = adapters.get(resource.kind)!;
    const byName = (name: string | undefined) => (name === undefined ? undefined : stored.get(resource.kind)!.find((item) => item.name === name));
    // An owned resource renamed in the UI is still the bundle's: found by the name it was applied under (and shown as drift).
    const renamedOutside = () => {
      const row = ownership.find((item) => item.bundle === request.bundle && item.kind === resource.kind && item.name === resource.name);
      return row && stored.get(resource.kind)!.find((item) => item.id === row.resourceId);
    };
    const current = byName(resource.name) ?? byName(resource.previousName) ?? renamedOutside() ?? null;
    const owner = current ? ownerOf.get(`${resource.kind}\u0000${current.id}`) : undefined;
    if (owner && owner.bundle !== request.bundle) {
      issues.push({
        path: `resources.${index}.name`,
        message: `${resource.kind} "${current!.name}" is owned by bundle "${owner.bundle}"; detach it there first`,
      });
    }
    const normalized = await adapter.normalize(resource.name, resource.spec, current, names);
    if (!normalized.ok) {
      issues.push(...prefixed(index, normalized.issues));
      continue;
    }
    if (current) matched.add(`${resource.kind}\u0000${current.id}`);
    const before = current ? { full: { name: current.name, ...current.spec }, redacted: { name: current.name, ...adapter.redact(current.spec) } } : null;
    const after = { full: { name: resource.name, ...normalized.spec }, redacted: { name: resource.name, ...adapter.redact(normalized.spec) } };
    const changes = diffFields(before, after);
    const change: PlannedChange = {
      kind: resource.kind,
      name: resource.name,
      action: current === null ? "create" : changes.length > 0 ? "update" : "no-op",
      drift: owner !== undefined && current !== null && owner.specHash !== specHash(current.name, current.spec),
      adopt: current !== null && owner === undefined,
      changes,
    };
    if (current) change.id = current.id;
    if (current && current.name !== resource.name) change.previousName = current.name;
    steps.push({ change, adapter, stored: current, spec: normalized.spec });
  }
  if (issues.length > 0) throw invalidInput(issues, { code: "invalid_bundle" });

  const vanished: Ownership[] = [];
  for (const row of ownership) {
    if (row.bundle !== request.bundle || matched.has(`${row.kind}\u0000${row.resourceId}`)) continue;
    const current = stored.get(row.kind)?.find((item) => item.id === row.resourceId);
    if (!current) {
      vanished.push(row);
      continue;
    }
    if (!request.prune && !request.detach) continue;
    const adapter = adapters.get(row.kind)!;
    const change: PlannedChange = {
      kind: row.kind,
      name: current.name,
      id: current.id,
      action: request.prune ? "delete" : "detach",
      drift: row.specHash !== specHash(current.name, current.spec),
      adopt: false,
      changes: request.prune
        ? diffFields({ full: { name: current.name, ...current.spec }, redacted: { name: current.name, ...adapter.redact(current.spec) } }, null)
        : [],
    };
    steps.push({ change, adapter, stored: current, spec: null });
  }
  steps.sort((a, b) => stepOrder(a) - stepOrder(b));

  const changes = steps.map((step) => step.change);
  const plan: ConfigPlan = {
    bundle: request.bundle,
    fingerprint: fingerprint(request, steps, ownership),
    hasChanges: changes.some((change) => change.action !== "no-op"),
    changes,
  };
  return { plan, steps, vanished };
}

/**
 * Over what the plan decided and the state it read: the full specs of the resources it touches
 * (secrets too, hashed) and the bundle's ownership. Equal fingerprints mean an apply now would
 * do exactly what the saved plan showed.
 */
function fingerprint(request: ParsedConfigRequest, steps: readonly PlanStep[], ownership: readonly Ownership[]): string {
  const state = steps.map((step) => ({
    change: step.change,
    current: step.stored ? specHash(step.stored.name, step.stored.spec) : null,
    desired: step.spec ? specHash(step.change.name, step.spec) : null,
  }));
  const owned = ownership
    .filter((row) => row.bundle === request.bundle)
    .map((row) => [row.kind, row.resourceId, row.specHash])
    .sort();
  return createHash("sha256")
    .update(canonicalJson({ bundle: request.bundle, prune: request.prune, detach: request.detach, state, owned }))
    .digest("hex");
}
