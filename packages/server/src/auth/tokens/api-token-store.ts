// The api_tokens table: named `vtk_` tokens with a role, an optional expiry and when they were
// last used. Read by hash on every request (no cache), so a revoked token fails on every core
// at once; `last_used_at` is written at most once a minute per token, not per request.
import { type Actor, API_TOKEN_PREFIX, type ApiToken, type Role, ROLES } from "@vantage/protocol";
import type pg from "pg";
import { VantageError } from "../../errors.ts";
import { generateSecret, hashToken } from "../secrets.ts";

export const apiTokenNotFound = (id: string) => new VantageError("not_found", "api_token_not_found", `No API token with id ${id}.`);

/** How stale `last_used_at` may get before a request writes it again. */
export const LAST_USED_RESOLUTION_MS = 60_000;

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  created_by: Actor;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = "id, name, role, created_by, created_at, expires_at, last_used_at";

const toApiToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  role: row.role,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at?.toISOString() ?? null,
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
});

const MAX_TOKENS_LISTED = 1000;

const INSERT = `
  INSERT INTO api_tokens (name, token_hash, role, user_id, created_by, expires_at, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`;
const SELECT_ALL = `SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, id LIMIT ${MAX_TOKENS_LISTED}`;
const DELETE = "DELETE FROM api_tokens WHERE id = $1";
// A token of a disabled owner is refused; one created with the bootstrap admin token has none.
const SELECT_BY_HASH = `
  SELECT t.id, t.name, t.role, t.user_id, t.expires_at, t.last_used_at, u.role AS owner_role
  FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
  WHERE t.token_hash = $1 AND (t.user_id IS NULL OR u.disabled_at IS NULL)`;
const TOUCH = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

/** Who a valid API token acts as. */
export interface TokenPrincipal {
  id: string;
  name: string;
  /** Never above its owner's current role. */
  role: Role;
  /** The user who created it (null: the bootstrap admin token did). */
  userId: string | null;
}

export interface NewApiToken {
  name: string;
  role: Role;
  expiresAt?: string | undefined;
  /** The user creating it, or null for the bootstrap admin token. */
  userId: string | null;
  createdBy: Actor;
}

export interface ApiTokenStore {
  /** Stores a new token; its secret is in the answer only. */
  create(input: NewApiToken): Promise<ApiToken & { token: string }>;
  list(): Promise<ApiToken[]>;
  revoke(id: string): Promise<void>;
  /** The token's principal, or undefined when it is unknown, revoked, expired or its owner disabled. */
  resolve(token: string): Promise<TokenPrincipal | undefined>;
}

const lower = (a: Role, b: Role): Role => (ROLES.indexOf(a) <= ROLES.indexOf(b) ? a : b);

export function createApiTokenStore(pool: pg.Pool, now: () => number): ApiTokenStore {
  return {
    async create(input) {
      const token = generateSecret(API_TOKEN_PREFIX);
      const { rows } = await pool.query<TokenRow>(INSERT, [
        input.name,
        hashToken(token),
        input.role,
        input.userId,
        JSON.stringify(input.createdBy),
        input.expiresAt === undefined ? null : new Date(input.expiresAt),
        new Date(now()),
      ]);
      return { ...toApiToken(rows[0]!), token };
    },
    async list() {
      return (await pool.query<TokenRow>(SELECT_ALL)).rows.map(toApiToken);
    },
    async revoke(id) {
      const { rowCount } = await pool.query(DELETE, [id]);
      if (rowCount === 0) throw apiTokenNotFound(id);
    },
    async resolve(token) {
      type Row = Pick<TokenRow, "id" | "name" | "role" | "expires_at" | "last_used_at"> & { user_id: string | null; owner_role: Role | null };
      const row = (await pool.query<Row>(SELECT_BY_HASH, [hashToken(token)])).rows[0];
      const at = now();
      if (!row || (row.expires_at !== null && row.expires_at.getTime() <= at)) return undefined;
      if (row.last_used_at === null || at - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) await pool.query(TOUCH, [row.id, new Date(at)]);
      return { id: row.id, name: row.name, userId: row.user_id, role: row.owner_role === null ? row.role : lower(row.role, row.owner_role) };
    },
  };
}
