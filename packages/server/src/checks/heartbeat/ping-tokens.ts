// The check_ping_tokens table: a heartbeat check's one ping token, stored as its SHA-256 (shown
// once, on create and on rotate), the check a token names, and the start of a run in progress.
import { createHash } from "node:crypto";
import { HEARTBEAT_CHECK_TYPE } from "@vantage/protocol";
import { generateSecret } from "../../auth/index.ts";
import type { SqlClient } from "../../entities/index.ts";

const TOKEN_PREFIX = "vhb";

const ISSUE_TOKEN = `
  INSERT INTO check_ping_tokens (check_id, token_hash, run_started_at, rotated_at) VALUES ($1, $2, NULL, $3)
  ON CONFLICT (check_id) DO UPDATE SET token_hash = excluded.token_hash, run_started_at = NULL, rotated_at = excluded.rotated_at`;

// Served by the unique index on token_hash: one probe whatever the token, known or not.
const FIND_TARGET = `
  SELECT t.check_id, t.run_started_at, c.enabled
  FROM check_ping_tokens t JOIN checks c ON c.id = t.check_id AND c.type = '${HEARTBEAT_CHECK_TYPE}'
  WHERE t.token_hash = $1`;

const START_RUN = `UPDATE check_ping_tokens SET run_started_at = $2 WHERE check_id = $1`;
// The run a ping ends: its start is taken (cleared) by the ping that measures it.
const END_RUN = `
  UPDATE check_ping_tokens t SET run_started_at = NULL FROM (SELECT run_started_at FROM check_ping_tokens WHERE check_id = $1 FOR UPDATE) AS before
  WHERE t.check_id = $1 RETURNING before.run_started_at`;

/** Where a job sends its pings with the token (relative to the core: `GET|POST /hb/:token`). */
export const pingUrlOf = (token: string): string => `/hb/${token}`;

/** sha256 of the token: a 256-bit random token needs no key stretching, and a ping must stay cheap. */
export function pingTokenHash(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** A new token for the check (replacing any other: the old one stops working at once). Returns the token. */
export async function issuePingToken(db: SqlClient, checkId: string, now: number): Promise<string> {
  const token = generateSecret(TOKEN_PREFIX);
  await db.query({ name: "vantage_issue_ping_token", text: ISSUE_TOKEN, values: [checkId, pingTokenHash(token), new Date(now)] });
  return token;
}

export interface PingTarget {
  checkId: string;
  enabled: boolean;
  runStartedAt: Date | null;
}

/** The heartbeat check the token names, or null. */
export async function findPingTarget(db: SqlClient, token: string): Promise<PingTarget | null> {
  const { rows } = await db.query<{ check_id: string; run_started_at: Date | null; enabled: boolean }>({
    name: "vantage_find_ping_target",
    text: FIND_TARGET,
    values: [pingTokenHash(token)],
  });
  const row = rows[0];
  return row ? { checkId: row.check_id, enabled: row.enabled, runStartedAt: row.run_started_at } : null;
}

export async function startRun(db: SqlClient, checkId: string, now: number): Promise<void> {
  await db.query({ name: "vantage_ping_start_run", text: START_RUN, values: [checkId, new Date(now)] });
}

/** Ends the run in progress: when it started (null when no /start preceded). */
export async function endRun(db: SqlClient, checkId: string): Promise<Date | null> {
  const { rows } = await db.query<{ run_started_at: Date | null }>({ name: "vantage_ping_end_run", text: END_RUN, values: [checkId] });
  return rows[0]?.run_started_at ?? null;
}
