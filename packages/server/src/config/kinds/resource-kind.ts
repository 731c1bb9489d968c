// What config as code needs of each resource kind: read every stored resource as a spec (the
// API body without its name, secrets in plain text, for comparing only), make a bundle's spec
// into the one the API would store, and write it in the apply's transaction through the kind's
// own store, so its validation, sealing and notices are the API's own.
import type { Actor, Cause, EntityChanged, Issue, ResourceKind } from "@vantage/protocol";
import type pg from "pg";
import { isVantageError } from "../../errors.ts";

export type Spec = Record<string, unknown>;

/** A stored resource of a kind. */
export interface StoredResource {
  id: string;
  name: string;
  /** As a bundle would hold it, secrets in plain text: never answered, only compared and hashed. */
  spec: Spec;
}

/** A spec made ready to store, or what is wrong with it (paths relative to the spec). */
export type Normalized = { ok: true; spec: Spec } | { ok: false; issues: Issue[] };

/** What every write of an apply records: who, and why. */
export interface WriteContext {
  actor: Actor;
  cause: Cause;
}

/** What a write leaves for after the commit: entity changes to announce, a one-time token to show. */
export interface WriteOutcome {
  changes?: EntityChanged[];
  token?: string;
}

/** The names of every resource the bundle will leave in place, by kind: an automation's notify step may name a channel the bundle creates. */
export type BundleNames = ReadonlyMap<ResourceKind, ReadonlySet<string>>;

export interface ResourceKindAdapter {
  readonly kind: ResourceKind;
  /** Every stored resource of the kind, read through `db` (the apply's transaction, or the pool). */
  loadAll(db: pg.Pool | pg.PoolClient): Promise<StoredResource[]>;
  /** The spec the API would store for `name`, over `stored` (whose secrets a `<redacted>` or an omitted secret keeps). */
  normalize(name: string, spec: Spec, stored: StoredResource | null, names: BundleNames): Promise<Normalized>;
  /** The spec with every secret as `<redacted>`: for plans and exports. */
  redact(spec: Spec): Spec;
  create(tx: pg.PoolClient, name: string, spec: Spec, context: WriteContext): Promise<{ id: string } & WriteOutcome>;
  update(tx: pg.PoolClient, stored: StoredResource, name: string, spec: Spec, context: WriteContext): Promise<WriteOutcome>;
  remove(tx: pg.PoolClient, stored: StoredResource, context: WriteContext): Promise<WriteOutcome>;
  /** Announces what the writes recorded, once the apply committed. */
  announce(changes: EntityChanged[]): void;
  /** Labels for `export --label` (kinds without labels match no label filter). */
  labels?(spec: Spec): Record<string, string>;
}

/** The issues of a store's or validator's invalid-input error, or the error itself again. */
export function issuesOf(error: unknown): Issue[] {
  if (isVantageError(error, "invalid_input")) {
    const issues = error.details?.issues;
    if (Array.isArray(issues)) return issues as Issue[];
    return [{ path: "", message: error.message }];
  }
  throw error;
}

/** `value` without `keys`. */
export function omit(value: Record<string, unknown>, ...keys: string[]): Spec {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.includes(key)));
}
