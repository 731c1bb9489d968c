// The users table: accounts with an e-mail, a scrypt password hash and a role. Disabling a
// user or changing its password ends its sessions in the same transaction.
import type { Role, User } from "@vantage/protocol";
import type pg from "pg";
import { VantageError } from "../../errors.ts";
import { isUniqueViolation, withTransaction } from "../../storage/index.ts";

export const userNotFound = (id: string) => new VantageError("not_found", "user_not_found", `No user with id ${id}.`);

const emailTaken = (email: string, cause: unknown) =>
  new VantageError("conflict", "user_email_taken", `A user with e-mail ${email} exists already.`, { cause });

interface UserRow {
  id: string;
  email: string;
  role: Role;
  disabled_at: Date | null;
  created_at: Date;
  last_login_at: Date | null;
}

const COLUMNS = "id, email, role, disabled_at, created_at, last_login_at";

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  role: row.role,
  disabled: row.disabled_at !== null,
  createdAt: row.created_at.toISOString(),
  lastLoginAt: row.last_login_at?.toISOString() ?? null,
});

/** Far more users than a monitoring team has; the list is one page. */
const MAX_USERS_LISTED = 1000;

const INSERT = `INSERT INTO users (email, password_hash, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING ${COLUMNS}`;
const SELECT_ALL = `SELECT ${COLUMNS} FROM users ORDER BY email LIMIT ${MAX_USERS_LISTED}`;
const SELECT_ONE = `SELECT ${COLUMNS} FROM users WHERE id = $1`;
const UPDATE = `
  UPDATE users SET
    role = COALESCE($2, role),
    disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at WHEN $3 THEN COALESCE(disabled_at, $5) ELSE NULL END,
    password_hash = COALESCE($4, password_hash),
    updated_at = $5
  WHERE id = $1
  RETURNING ${COLUMNS}`;
const DELETE_SESSIONS = "DELETE FROM sessions WHERE user_id = $1";
const DELETE = "DELETE FROM users WHERE id = $1";
const SELECT_FOR_LOGIN = "SELECT id, password_hash, disabled_at FROM users WHERE email = $1";
const RECORD_LOGIN = `UPDATE users SET last_login_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`;

export interface UserPatch {
  role?: Role | undefined;
  disabled?: boolean | undefined;
  passwordHash?: string | undefined;
}

/** What a login checks the password against. */
export interface LoginCandidate {
  id: string;
  passwordHash: string;
  disabled: boolean;
}

export interface UserStore {
  create(input: { email: string; role: Role; passwordHash: string }): Promise<User>;
  list(): Promise<User[]>;
  get(id: string): Promise<User>;
  update(id: string, patch: UserPatch): Promise<User>;
  remove(id: string): Promise<void>;
  forLogin(email: string): Promise<LoginCandidate | undefined>;
  recordLogin(id: string): Promise<User>;
}

export function createUserStore(pool: pg.Pool, now: () => number): UserStore {
  return {
    async create({ email, role, passwordHash }) {
      try {
        const { rows } = await pool.query<UserRow>(INSERT, [email, passwordHash, role, new Date(now())]);
        return toUser(rows[0]!);
      } catch (error) {
        throw isUniqueViolation(error) ? emailTaken(email, error) : error;
      }
    },
    async list() {
      return (await pool.query<UserRow>(SELECT_ALL)).rows.map(toUser);
    },
    async get(id) {
      const row = (await pool.query<UserRow>(SELECT_ONE, [id])).rows[0];
      if (!row) throw userNotFound(id);
      return toUser(row);
    },
    update(id, patch) {
      return withTransaction(pool, async (tx) => {
        const { rows } = await tx.query<UserRow>(UPDATE, [id, patch.role ?? null, patch.disabled ?? null, patch.passwordHash ?? null, new Date(now())]);
        if (!rows[0]) throw userNotFound(id);
        // A disabled account or a new password: whoever holds an old session is signed out.
        if (patch.disabled === true || patch.passwordHash !== undefined) await tx.query(DELETE_SESSIONS, [id]);
        return toUser(rows[0]);
      });
    },
    async remove(id) {
      // Its sessions and tokens go with it (ON DELETE CASCADE).
      const { rowCount } = await pool.query(DELETE, [id]);
      if (rowCount === 0) throw userNotFound(id);
    },
    async forLogin(email) {
      const row = (await pool.query<{ id: string; password_hash: string; disabled_at: Date | null }>(SELECT_FOR_LOGIN, [email])).rows[0];
      return row && { id: row.id, passwordHash: row.password_hash, disabled: row.disabled_at !== null };
    },
    async recordLogin(id) {
      const row = (await pool.query<UserRow>(RECORD_LOGIN, [id, new Date(now())])).rows[0];
      if (!row) throw userNotFound(id);
      return toUser(row);
    },
  };
}
