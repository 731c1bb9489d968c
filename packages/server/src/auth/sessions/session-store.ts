// The sessions table behind the browser's cookie: a session ends at its absolute expiry, after
// an idle period, at logout, or with its user. The cookie's secret is stored as SHA-256 only.
import { randomBytes } from "node:crypto";
import type { Role } from "@vantage/protocol";
import type pg from "pg";
import { hashToken } from "../secrets.ts";

export interface SessionLifetime {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after login, used or not. */
  absoluteMs: number;
}

/** A working day of idling, a week at most: then the browser signs in again. */
export const DEFAULT_SESSION_LIFETIME: SessionLifetime = { idleMs: 12 * 3600_000, absoluteMs: 7 * 24 * 3600_000 };

/** How stale `last_seen_at` may get before a request writes it again (the idle timeout's resolution). */
const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface Session {
  id: string;
  csrfToken: string;
  expiresAt: Date;
  user: { id: string; email: string; role: Role };
}

export interface SessionStore {
  /** Starts a session for the user: the cookie's secret is in the answer only. */
  create(userId: string): Promise<{ secret: string; csrfToken: string; expiresAt: Date }>;
  /** The live session the cookie's secret names, or undefined (unknown, idle too long, expired, user disabled). */
  resolve(secret: string): Promise<Session | undefined>;
  remove(id: string): Promise<void>;
}

const INSERT = `
  INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
  VALUES ($1, $2, $3, $4, $4, $5)`;
// Logins are rare: each sweeps the sessions past their absolute expiry (an index range).
const DELETE_EXPIRED = "DELETE FROM sessions WHERE expires_at <= $1";
const SELECT = `
  SELECT s.id, s.csrf_token, s.last_seen_at, s.expires_at, u.id AS user_id, u.email, u.role
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = $1 AND u.disabled_at IS NULL`;
const TOUCH = "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2";
const DELETE = "DELETE FROM sessions WHERE id = $1";

interface SessionRow {
  id: string;
  csrf_token: string;
  last_seen_at: Date;
  expires_at: Date;
  user_id: string;
  email: string;
  role: Role;
}

export function createSessionStore(pool: pg.Pool, now: () => number, lifetime: SessionLifetime = DEFAULT_SESSION_LIFETIME): SessionStore {
  return {
    async create(userId) {
      const at = now();
      const secret = randomBytes(32).toString("base64url");
      const csrfToken = randomBytes(32).toString("base64url");
      const expiresAt = new Date(at + lifetime.absoluteMs);
      await pool.query(DELETE_EXPIRED, [new Date(at)]);
      await pool.query(INSERT, [hashToken(secret), userId, csrfToken, new Date(at), expiresAt]);
      return { secret, csrfToken, expiresAt };
    },
    async resolve(secret) {
      const row = (await pool.query<SessionRow>(SELECT, [hashToken(secret)])).rows[0];
      const at = now();
      if (!row || row.expires_at.getTime() <= at || at - row.last_seen_at.getTime() >= lifetime.idleMs) return undefined;
      if (at - row.last_seen_at.getTime() >= LAST_SEEN_RESOLUTION_MS) await pool.query(TOUCH, [row.id, new Date(at)]);
      return { id: row.id, csrfToken: row.csrf_token, expiresAt: row.expires_at, user: { id: row.user_id, email: row.email, role: row.role } };
    },
    async remove(id) {
      await pool.query(DELETE, [id]);
    },
  };
}
