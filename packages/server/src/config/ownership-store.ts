// The config_ownership table (migration 0026): which bundle owns which resource, and the hash of
// the spec it last applied; and config_changes (0027): what each apply changed, by whom, why.
import { createHash } from "node:crypto";
import type { Actor, Cause, ResourceKind } from "@vantage/protocol";
import type pg from "pg";
import { canonicalJson } from "../entities/index.ts";

export interface Ownership {
  kind: ResourceKind;
  resourceId: string;
  bundle: string;
  name: string;
  specHash: string;
}

/** The hash drift is judged by: the name and the spec, secrets included (so a rotated secret is drift too). */
export function specHash(name: string, spec: unknown): string {
  return createHash("sha256").update(canonicalJson({ name, spec })).digest("hex");
}

/** Every ownership row: a plan must know resources owned by other bundles too (a small table). */
export async function loadOwnership(db: pg.Pool | pg.PoolClient): Promise<Ownership[]> {
  const { rows } = await db.query<{ kind: ResourceKind; resource_id: string; bundle: string; name: string; spec_hash: string }>(
    "SELECT kind, resource_id, bundle, name, spec_hash FROM config_ownership",
  );
  return rows.map((row) => ({ kind: row.kind, resourceId: row.resource_id, bundle: row.bundle, name: row.name, specHash: row.spec_hash }));
}

/** The `kind\0resourceId` keys of what `bundle` owns (through the bundle index). */
export async function ownedBy(db: pg.Pool | pg.PoolClient, bundle: string): Promise<Set<string>> {
  const { rows } = await db.query<{ kind: string; resource_id: string }>("SELECT kind, resource_id FROM config_ownership WHERE bundle = $1", [bundle]);
  return new Set(rows.map((row) => `${row.kind}\u0000${row.resource_id}`));
}

export interface ResourceOwner {
  kind: ResourceKind;
  id: string;
  bundle: string;
  /** The name it was last applied under. */
  name: string;
  appliedAt: string;
}

/** Which bundle owns each of `ids` of `kind` (by the primary key), or every owned one of the kind. */
export async function ownersOf(db: pg.Pool, kind: ResourceKind, ids: readonly string[] | undefined): Promise<ResourceOwner[]> {
  const { rows } = await db.query<{ resource_id: string; bundle: string; name: string; applied_at: Date }>(
    `SELECT resource_id, bundle, name, applied_at FROM config_ownership WHERE kind = $1 AND ($2::uuid[] IS NULL OR resource_id = ANY($2::uuid[])) ORDER BY name`,
    [kind, ids ?? null],
  );
  return rows.map((row) => ({ kind, id: row.resource_id, bundle: row.bundle, name: row.name, appliedAt: row.applied_at.toISOString() }));
}

export async function saveOwnership(tx: pg.PoolClient, rows: readonly Ownership[], applyId: string): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO config_ownership (kind, resource_id, bundle, name, spec_hash, apply_id)
     SELECT kind, resource_id, bundle, name, spec_hash, $2 FROM jsonb_to_recordset($1::jsonb) AS r (kind text, resource_id uuid, bundle text, name text, spec_hash text)
     ON CONFLICT (kind, resource_id) DO UPDATE SET bundle = excluded.bundle, name = excluded.name, spec_hash = excluded.spec_hash, apply_id = excluded.apply_id, applied_at = now()`,
    [
      JSON.stringify(rows.map((row) => ({ kind: row.kind, resource_id: row.resourceId, bundle: row.bundle, name: row.name, spec_hash: row.specHash }))),
      applyId,
    ],
  );
}

export async function releaseOwnership(tx: pg.PoolClient, rows: ReadonlyArray<Pick<Ownership, "kind" | "resourceId">>): Promise<void> {
  if (rows.length === 0) return;
  await tx.query("DELETE FROM config_ownership WHERE (kind, resource_id) IN (SELECT kind, id FROM unnest($1::text[], $2::uuid[]) AS r (kind, id))", [
    rows.map((row) => row.kind),
    rows.map((row) => row.resourceId),
  ]);
}

export interface ConfigChangeRecord {
  kind: ResourceKind;
  name: string;
  resourceId: string;
  action: string;
  changedPaths: string[];
}

export async function recordChanges(
  tx: pg.PoolClient,
  apply: { id: string; bundle: string; actor: Actor; cause: Cause },
  changes: readonly ConfigChangeRecord[],
) {
  if (changes.length === 0) return;
  await tx.query(
    `INSERT INTO config_changes (apply_id, seq, bundle, kind, name, resource_id, action, changed_paths, actor, cause)
     SELECT $1, r.seq, $2, r.kind, r.name, r.resource_id, r.action, ARRAY(SELECT jsonb_array_elements_text(r.changed_paths)), $3, $4
     FROM jsonb_to_recordset($5::jsonb) AS r (seq integer, kind text, name text, resource_id uuid, action text, changed_paths jsonb)`,
    [
      apply.id,
      apply.bundle,
      JSON.stringify(apply.actor),
      JSON.stringify(apply.cause),
      JSON.stringify(
        changes.map((change, seq) => ({
          seq,
          kind: change.kind,
          name: change.name,
          resource_id: change.resourceId,
          action: change.action,
          changed_paths: change.changedPaths,
        })),
      ),
    ],
  );
}

export interface ConfigHistoryEntry {
  applyId: string;
  bundle: string;
  kind: string;
  name: string;
  resourceId: string;
  action: string;
  changedPaths: string[];
  actor: Actor;
  cause: Cause;
  occurredAt: string;
}

/** The applies that changed a resource (by its current or a past name), newest first. */
export async function resourceHistory(db: pg.Pool, kind: ResourceKind, name: string, limit: number): Promise<ConfigHistoryEntry[]> {
  const { rows } = await db.query<{
    apply_id: string;
    bundle: string;
    kind: string;
    name: string;
    resource_id: string;
    action: string;
    changed_paths: string[];
    actor: Actor;
    cause: Cause;
    occurred_at: Date;
  }>(
    `SELECT c.* FROM config_changes c
     WHERE c.kind = $1 AND c.resource_id IN (SELECT resource_id FROM config_changes WHERE kind = $1 AND name = $2)
     ORDER BY c.occurred_at DESC, c.seq DESC LIMIT $3`,
    [kind, name, limit],
  );
  return rows.map((row) => ({
    applyId: row.apply_id,
    bundle: row.bundle,
    kind: row.kind,
    name: row.name,
    resourceId: row.resource_id,
    action: row.action,
    changedPaths: row.changed_paths,
    actor: row.actor,
    cause: row.cause,
    occurredAt: row.occurred_at.toISOString(),
  }));
}
