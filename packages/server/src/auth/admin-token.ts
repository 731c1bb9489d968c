// The admin API token: the operator's own (VANTAGE_ADMIN_TOKEN) or one generated at first
// start and logged once. Only its hash is stored (settings), so every core process agrees.
import { createHash } from "node:crypto";
import type pg from "pg";
import type { Logger } from "../log.ts";
import { checkSecret, generateSecret, hashSecret, hashToken, type Verdict, type VerifyOptions, verifySecret } from "./secrets.ts";

export const ADMIN_TOKEN_PREFIX = "vadm";

/** Longer bearer values are refused without hashing them; config caps VANTAGE_ADMIN_TOKEN below it. */
export const MAX_ADMIN_TOKEN_LENGTH = 512;

const ADMIN_TOKEN_HASH_KEY = "admin_token_hash";

const SELECT_SETTING = "SELECT value FROM settings WHERE key = $1";
const INSERT_SETTING_IF_ABSENT = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
const UPSERT_SETTING = `
  INSERT INTO settings (key, value) VALUES ($1, $2)
  ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;

async function readAdminTokenHash(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ value: string }>(SELECT_SETTING, [ADMIN_TOKEN_HASH_KEY]);
  return rows[0]?.value;
}

/** Where the admin token in force came from, as seen by this call. */
export type AdminTokenSource = "configured" | "generated" | "stored";

export interface EnsureAdminTokenOptions {
  pool: pg.Pool;
  logger: Logger;
  /** VANTAGE_ADMIN_TOKEN: when set it wins, replacing whatever hash is stored. */
  configuredToken?: string | undefined;
}

/**
 * Makes sure an admin token exists. With `configuredToken`, stores its hash unless the
 * stored one already matches it. Otherwise keeps the stored hash, or on an empty database
 * generates a token, stores its hash and logs the token once. Processes starting together
 * race on one INSERT … ON CONFLICT DO NOTHING: one inserts and logs, the others keep its hash.
 */
export async function ensureAdminToken(options: EnsureAdminTokenOptions): Promise<{ source: AdminTokenSource }> {
  const { pool, logger, configuredToken } = options;
  const stored = await readAdminTokenHash(pool);
  if (configuredToken !== undefined) {
    if (stored === undefined || !(await verifySecret(configuredToken, stored))) {
      await pool.query(UPSERT_SETTING, [ADMIN_TOKEN_HASH_KEY, await hashSecret(configuredToken)]);
      logger.info("admin API token set from VANTAGE_ADMIN_TOKEN; any earlier admin token no longer works");
    }
    return { source: "configured" };
  }
  if (stored !== undefined) return { source: "stored" };

  // 256 random bits: a SHA-256 suffices (a chosen token, above, keeps its slow hash).
  const token = generateSecret(ADMIN_TOKEN_PREFIX);
  const { rowCount } = await pool.query(INSERT_SETTING_IF_ABSENT, [ADMIN_TOKEN_HASH_KEY, hashToken(token)]);
  // Another process generated one first: its log shows that token; this one was never valid.
  if (rowCount === 0) return { source: "stored" };
  logger.warn(
    `Generated the admin API token: ${token} — save it now, it is shown only this once (only its hash is stored). ` +
      "Send it as 'Authorization: Bearer <token>'. Lost it? Restart with VANTAGE_ADMIN_TOKEN set to a token of your choice.",
  );
  return { source: "generated" };
}

/**
 * Checks a bearer value against the admin token. With `slow: false` it answers "refused"
 * where only a slow hash could tell (a chosen token not yet verified on this process).
 */
export type AdminTokenVerifier = (token: string, options?: VerifyOptions) => Promise<Verdict>;

export interface AdminTokenVerifierOptions {
  pool: pg.Pool;
  /** How long the stored hash is reused before it is read again (a token change on another process shows up within this). */
  hashTtlMs?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  /**
   * VANTAGE_ADMIN_TOKEN, which this process knows in clear: checked once against each stored
   * hash it reads, so the operator's token always verifies cheaply, even from an address that
   * a flood of wrong tokens put over the failure limit.
   */
  knownToken?: string | undefined;
}

/** Distinct admin tokens remembered as verified; far above the one or two in use. */
const MAX_VERIFIED = 64;

const digestOf = (token: string) => createHash("sha256").update(token).digest("base64");

/**
 * The verifier requests use. A token that verified is remembered by its SHA-256 next to the
 * hash it matched, so later requests skip scrypt; a changed stored hash invalidates that.
 * Wrong tokens are not remembered: each one against a slow hash pays a full scrypt.
 */
export function createAdminTokenVerifier(options: AdminTokenVerifierOptions): AdminTokenVerifier {
  const { pool, knownToken } = options;
  const now = options.now ?? Date.now;
  const hashTtlMs = options.hashTtlMs ?? 5_000;
  const verified = new Map<string, string>();
  let cached: { hash: string | undefined; readAt: number } | undefined;
  let reading: Promise<string | undefined> | undefined;

  const remember = (token: string, hash: string) => {
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(digestOf(token), hash);
  };

  const read = async (): Promise<string | undefined> => {
    const hash = await readAdminTokenHash(pool);
    const known = knownToken !== undefined && hash !== undefined && hash !== cached?.hash;
    if (known && (await checkSecret(knownToken, hash)) === "valid") remember(knownToken, hash);
    cached = { hash, readAt: now() };
    return hash;
  };

  const storedHash = (): Promise<string | undefined> => {
    if (cached && now() - cached.readAt < hashTtlMs) return Promise.resolve(cached.hash);
    // Concurrent requests after expiry share one read.
    reading ??= read().finally(() => {
      reading = undefined;
    });
    return reading;
  };

  return async (token, verifyOptions) => {
    if (token.length > MAX_ADMIN_TOKEN_LENGTH) return "invalid";
    const stored = await storedHash();
    if (stored === undefined) return "invalid";
    if (verified.get(digestOf(token)) === stored) return "valid";
    const verdict = await checkSecret(token, stored, verifyOptions);
    if (verdict === "valid") remember(token, stored);
    return verdict;
  };
}
