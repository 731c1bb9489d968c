// Config as code inside the core: plan a bundle, apply it in ONE transaction (every write through
// its kind's store, recorded with the caller as actor and the apply as cause; entity changes
// announced only after the commit), export the current resources as a bundle, read a
// resource's apply history.
import { randomUUID } from "node:crypto";
import {
  type Actor,
  type BundleResource,
  CAUSE_TYPES,
  type Cause,
  type ConfigPlan,
  type EntityChanged,
  RESOURCE_KINDS,
  type ResourceKind,
} from "@vantage/protocol";
import type pg from "pg";
import { pingUrlOf, type TrialRunner } from "../checks/index.ts";
import { isVantageError, VantageError } from "../errors.ts";
import { hashedLockKey, LockKey, withTransaction } from "../storage/index.ts";
import { type BundleTrial, runBundleChecks, trialsPassed } from "./bundle-trial.ts";
import { type Adapters, type ComputedPlan, computePlan, type ParsedConfigRequest, type PlanStep } from "./config-plan.ts";
import type { ResourceKindAdapter, StoredResource, WriteContext, WriteOutcome } from "./kinds/resource-kind.ts";
import type { ConfigSecretStore } from "./secrets/config-secret-store.ts";
import { maskSecrets, resolveSecretReferences } from "./secrets/secret-references.ts";
import { type ConfigChangeRecord, type Ownership, ownedBy, recordChanges, releaseOwnership, saveOwnership, specHash } from "./ownership-store.ts";

export interface ApplyResult {
  applyId: string;
  plan: ConfigPlan;
  /** Satellites the apply created, with their one-time tokens (shown once, stored nowhere). */
  satellites: Array<{ name: string; id: string; token: string }>;
  /** Heartbeat checks the apply created, with their ping tokens and URLs (shown once, as by POST /checks). */
  heartbeatChecks: Array<{ name: string; id: string; pingToken: string; pingUrl: string }>;
}

export interface ExportFilter {
  kinds?: readonly ResourceKind[];
  /** `key=value` labels every exported resource must carry (kinds without labels are left out). */
  labels?: Readonly<Record<string, string>>;
  /** Only the resources this bundle owns. */
  bundle?: string;
}

function planStale(): VantageError {
  return new VantageError(
    "conflict",
    "config_plan_stale",
    "The state changed since the plan was made (or the bundle did): plan again, review it, and apply that plan.",
  );
}

function applyFailed(step: PlanStep, error: unknown): VantageError {
  const what = `${step.change.kind} "${step.change.name}"`;
  const message = error instanceof Error ? error.message : String(error);
  const details: Record<string, unknown> = { kind: step.change.kind, name: step.change.name, action: step.change.action };
  if (isVantageError(error)) details.code = error.code;
  return new VantageError("conflict", "config_apply_failed", `Could not ${step.change.action} ${what}: ${message} Nothing was applied.`, {
    cause: error,
    details,
  });
}

async function write(tx: pg.PoolClient, step: PlanStep, context: WriteContext): Promise<({ id?: string } & WriteOutcome) | null> {
  const { adapter, stored, spec, change } = step;
  switch (change.action) {
    case "create":
      return adapter.create(tx, change.name, spec!, context);
    case "update":
      return adapter.update(tx, stored!, change.name, spec!, context);
    case "delete":
      return adapter.remove(tx, stored!, context);
    default:
      return null;
  }
}

export interface ConfigServiceOptions {
  pool: pg.Pool;
  adapters: readonly ResourceKindAdapter[];
  /** The stored `${secret:NAME}` values. */
  secrets: ConfigSecretStore;
  /** Runs a check once without saving it (`vantage test`). */
  runTrial?: TrialRunner;
}

export class ConfigService {
  private readonly pool: pg.Pool;
  private readonly adapters: Adapters;
  private readonly secrets: ConfigSecretStore;
  private readonly runTrial: TrialRunner | undefined;

  constructor(options: ConfigServiceOptions) {
    this.pool = options.pool;
    this.secrets = options.secrets;
    this.runTrial = options.runTrial;
    this.adapters = new Map(options.adapters.map((adapter) => [adapter.kind, adapter]));
  }

  async plan(request: ParsedConfigRequest): Promise<ConfigPlan> {
    return (await this.computePlan(this.pool, request)).plan;
  }

  /** The plan with `${secret:…}` resolved from the secrets `db` sees; every stored value shown as its reference again. */
  private async computePlan(db: pg.Pool | pg.PoolClient, request: ParsedConfigRequest): Promise<ComputedPlan> {
    const secrets = await this.secrets.values(db);
    const resolved = resolveSecretReferences(request.resources, secrets.current);
    const computed = await computePlan(db, { ...request, resources: resolved.resources }, this.adapters, resolved.issues);
    // The changes only: the fingerprint (hex) must reach `apply --plan` exactly as computed.
    return { ...computed, plan: { ...computed.plan, changes: maskSecrets(computed.plan.changes, secrets.masks) } };
  }

  /** Plans again inside the transaction (under the bundle's lock) and carries the plan out, all or nothing. */
  async apply(request: ParsedConfigRequest, actor: Actor): Promise<ApplyResult> {
    const applyId = randomUUID();
    const cause: Cause = { type: CAUSE_TYPES.configApply, id: applyId, ...(request.commit === undefined ? {} : { commit: request.commit }) };
    const announcements: Array<{ adapter: ResourceKindAdapter; changes: EntityChanged[] }> = [];
    const result = await withTransaction(this.pool, async (tx) => {
      // Two applies of one bundle would each plan against a state the other is changing.
      await tx.query(`SELECT pg_advisory_xact_lock(${hashedLockKey("$1")})`, [LockKey.configBundle(request.bundle)]);
      const { plan, steps, vanished } = await this.computePlan(tx, request);
      if (request.fingerprint !== undefined && request.fingerprint !== plan.fingerprint) throw planStale();
      const satellites: ApplyResult["satellites"] = [];
      const heartbeatChecks: ApplyResult["heartbeatChecks"] = [];
      const records: ConfigChangeRecord[] = [];
      const kept = new Map<string, { step: PlanStep; id: string }>();
      for (const step of steps) {
        let outcome: Awaited<ReturnType<typeof write>>;
        try {
          outcome = await write(tx, step, { actor, cause });
        } catch (error) {
          throw applyFailed(step, error);
        }
        const id = outcome?.id ?? step.stored!.id;
        if (outcome?.changes?.length) announcements.push({ adapter: step.adapter, changes: outcome.changes });
        if (outcome?.token !== undefined) {
          const { name } = step.change;
          if (step.change.kind === "Check") heartbeatChecks.push({ name, id, pingToken: outcome.token, pingUrl: pingUrlOf(outcome.token) });
          else satellites.push({ name, id, token: outcome.token });
        }
        if (step.change.action === "delete" || step.change.action === "detach") continue;
        kept.set(`${step.change.kind}\u0000${id}`, { step, id });
        if (step.change.action !== "no-op")
          records.push({
            kind: step.change.kind,
            name: step.change.name,
            resourceId: id,
            action: step.change.action,
            changedPaths: step.change.changes.map((c) => c.path),
          });
      }
      for (const step of steps) {
        if (step.change.action === "delete" || step.change.action === "detach") {
          records.push({ kind: step.change.kind, name: step.change.name, resourceId: step.stored!.id, action: step.change.action, changedPaths: [] });
        }
      }
      await saveOwnership(tx, await this.ownershipAfter(tx, request.bundle, kept), applyId);
      const released = steps.filter((step) => step.change.action === "delete" || step.change.action === "detach");
      await releaseOwnership(tx, [...released.map((step) => ({ kind: step.change.kind, resourceId: step.stored!.id })), ...vanished]);
      await recordChanges(tx, { id: applyId, bundle: request.bundle, actor, cause }, records);
      return { applyId, plan, satellites, heartbeatChecks };
    });
    for (const { adapter, changes } of announcements) adapter.announce(changes);
    return result;
  }

  /** Validates the bundle as a plan does and runs its checks once (core, or a satellite by name); saves nothing. */
  async test(request: ParsedConfigRequest, options: { satellite?: string } = {}): Promise<BundleTrial> {
    if (!this.runTrial) throw new Error("this config service was built without a trial runner");
    const { plan, steps } = await this.computePlan(this.pool, request);
    const satellites = options.satellite === undefined ? [] : await this.adapters.get("Satellite")!.loadAll(this.pool);
    const checks = await runBundleChecks(steps, { runTrial: this.runTrial, satellites, ...options });
    // A probe's detail may quote a target holding a secret (a URL with a key).
    const { masks } = await this.secrets.values(this.pool);
    return { plan, checks: maskSecrets(checks, masks), passed: trialsPassed(checks) };
  }

  /** The current resources as a bundle (secrets `<redacted>`, which a plan reads as "keep"). */
  async export(filter: ExportFilter = {}): Promise<BundleResource[]> {
    const resources: BundleResource[] = [];
    const secrets = await this.secrets.values(this.pool);
    const owned = filter.bundle === undefined ? undefined : await ownedBy(this.pool, filter.bundle);
    for (const kind of RESOURCE_KINDS) {
      if (filter.kinds && !filter.kinds.includes(kind)) continue;
      const adapter = this.adapters.get(kind)!;
      for (const stored of await adapter.loadAll(this.pool)) {
        if (!matchesLabels(adapter, stored, filter.labels)) continue;
        if (owned && !owned.has(`${kind}\u0000${stored.id}`)) continue;
        // A value stored as a secret reads as its reference: a plan resolves it back to the same value.
        resources.push({ kind, name: stored.name, spec: maskSecrets(adapter.redact(stored.spec), secrets.masks) });
      }
    }
    return resources;
  }

  /** What the bundle owns after the writes: each kept resource's spec read back and hashed, as drift will be judged. */
  private async ownershipAfter(tx: pg.PoolClient, bundle: string, kept: ReadonlyMap<string, { step: PlanStep; id: string }>): Promise<Ownership[]> {
    const rows: Ownership[] = [];
    const kinds = new Set([...kept.values()].map(({ step }) => step.change.kind));
    for (const kind of kinds) {
      for (const stored of await this.adapters.get(kind)!.loadAll(tx)) {
        if (kept.has(`${kind}\u0000${stored.id}`))
          rows.push({ kind, resourceId: stored.id, bundle, name: stored.name, specHash: specHash(stored.name, stored.spec) });
      }
    }
    return rows;
  }
}

function matchesLabels(adapter: ResourceKindAdapter, stored: StoredResource, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (labels === undefined || Object.keys(labels).length === 0) return true;
  const own = adapter.labels?.(stored.spec);
  return own !== undefined && Object.entries(labels).every(([key, value]) => own[key] === value);
}
