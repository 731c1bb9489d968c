// The audit trail of the API's resources (checks, automations, notification channels,
// maintenance windows): each store records its writes here, in the write's own transaction.
import type { Actor, Cause } from "@vantage/protocol";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import type pg from "pg";
import { canonicalJson } from "../entities/index.ts";

/** The kinds with a history, as named in `resource_changes.kind`. */
export const AUDITED_KINDS = ["check", "automation", "notification-channel", "maintenance-window"] as const;
export type AuditedKind = (typeof AUDITED_KINDS)[number];

// A replace and a patch are both an `update`: its changed fields say what it did.
export const RESOURCE_ACTIONS = ["create", "update", "enable", "disable", "delete"] as const;
export type ResourceAction = (typeof RESOURCE_ACTIONS)[number];

/** Who writes, and why: the request's principal and id, or the apply's token and `config.apply`. */
export interface WriteContext {
  actor: Actor;
  cause?: Cause | null;
}

/** A write without a context (a tool, a test) is the system's. */
export const SYSTEM_WRITE: WriteContext = Object.freeze({ actor: SYSTEM_ACTOR, cause: null });

export interface ResourceChange {
  kind: AuditedKind;
  resourceId: string;
  action: ResourceAction;
  /** The resource's version after the write, where it keeps one. */
  revision?: number | null;
  changedFields: readonly string[];
  context?: WriteContext;
}

const INSERT = `INSERT INTO resource_changes (kind, resource_id, action, revision, changed_fields, actor, cause)
VALUES ($1, $2, $3, $4, $5, $6, $7)`;

/** Records one write; `tx` must be the write's transaction, so the record commits (or not) with it. */
export async function recordResourceChange(tx: pg.PoolClient, change: ResourceChange): Promise<void> {
  const { actor, cause } = change.context ?? SYSTEM_WRITE;
  await tx.query(INSERT, [
    change.kind,
    change.resourceId,
    change.action,
    change.revision ?? null,
    [...change.changedFields],
    JSON.stringify(actor),
    cause ? JSON.stringify(cause) : null,
  ]);
}

/**
 * The sorted top-level fields whose canonical values differ. Names only: a sealed secret's
 * value must never reach the trail (a re-sealed one shows as changed, which it was: it was sent).
 */
export function changedFieldsOf(before: object | null, after: object | null): string[] {
  const prev = (before ?? {}) as Record<string, unknown>;
  const next = (after ?? {}) as Record<string, unknown>;
  const fields = new Set([...Object.keys(prev), ...Object.keys(next)]);
  return [...fields].filter((field) => canonicalJson(prev[field]) !== canonicalJson(next[field])).sort();
}
