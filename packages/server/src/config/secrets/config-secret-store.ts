// The config_secrets table (migration 0029): values a bundle names as `${secret:NAME}`, sealed at
// rest as a sealed field bound to the secret's name. Only names and who set them leave it; the
// values are opened for the core's own use (resolving references, masking them again).
import type { Actor } from "@vantage/protocol";
import type pg from "pg";
import { defineSealedFields, type SecretBox, type SecretValue } from "../../crypto/index.ts";
import { VantageError } from "../../errors.ts";

interface SecretDocument {
  value: SecretValue;
}

const sealing = defineSealedFields("config-secret", <T>(document: T, visit: (value: SecretValue, path: string) => SecretValue | undefined): T => {
  const { value } = document as unknown as SecretDocument;
  return { value: visit(value, "value") } as T;
});

/** A secret as the API lists it: never its value. */
export interface ConfigSecretView {
  name: string;
  updatedBy: Actor;
  createdAt: string;
  updatedAt: string;
}

interface SecretRow {
  name: string;
  updated_by: Actor;
  created_at: Date;
  updated_at: Date;
  created?: boolean;
}

const view = (row: SecretRow): ConfigSecretView => ({
  name: row.name,
  updatedBy: row.updated_by,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface SecretValues {
  /** Each secret's value, by name. */
  current: ReadonlyMap<string, string>;
  /** `[name, value]` for every value a resource may still hold: the current and the previous. */
  masks: ReadonlyArray<readonly [string, string]>;
}

export function secretNotFound(name: string): VantageError {
  return new VantageError("not_found", "config_secret_not_found", `No secret is named ${JSON.stringify(name)}; \`vantage secret list\` shows them.`);
}

export class ConfigSecretStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly box: SecretBox,
  ) {}

  /** Stores (or replaces) a secret; `created` tells which. */
  async set(name: string, value: string, actor: Actor): Promise<ConfigSecretView & { created: boolean }> {
    const sealed = sealing.seal<SecretDocument>({ value }, this.box, name);
    // xmax = 0 only on a row this statement inserted: a replace is told apart without a second query.
    const { rows } = await this.pool.query<SecretRow>(
      `INSERT INTO config_secrets (name, sealed, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET previous_sealed = config_secrets.sealed, sealed = excluded.sealed, updated_by = excluded.updated_by, updated_at = now()
       RETURNING name, updated_by, created_at, updated_at, (xmax = 0) AS created`,
      [name, JSON.stringify(sealed), JSON.stringify(actor)],
    );
    return { ...view(rows[0]!), created: rows[0]!.created === true };
  }

  async list(): Promise<ConfigSecretView[]> {
    const { rows } = await this.pool.query<SecretRow>("SELECT name, updated_by, created_at, updated_at FROM config_secrets ORDER BY name");
    return rows.map(view);
  }

  async remove(name: string): Promise<void> {
    const { rowCount } = await this.pool.query("DELETE FROM config_secrets WHERE name = $1", [name]);
    if (rowCount === 0) throw secretNotFound(name);
  }

  /**
   * Every secret opened, read through `db` (a plan's or apply's transaction; a small table):
   * `current` by name, to resolve references; `masks`, the current and the previous value of
   * each, to show as references wherever the core answers them (a resource applied before a
   * rotation still holds the old value).
   */
  async values(db: pg.Pool | pg.PoolClient): Promise<SecretValues> {
    const { rows } = await db.query<{ name: string; sealed: SecretDocument; previous_sealed: SecretDocument | null }>(
      "SELECT name, sealed, previous_sealed FROM config_secrets",
    );
    const open = (document: SecretDocument, name: string) => sealing.open(document, this.box, name).value as string;
    const current = new Map(rows.map((row) => [row.name, open(row.sealed, row.name)]));
    const masks: Array<[string, string]> = [...current];
    for (const row of rows) if (row.previous_sealed) masks.push([row.name, open(row.previous_sealed, row.name)]);
    return { current, masks };
  }
}
