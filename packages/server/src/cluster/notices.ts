// Notices between core processes: a JSON payload NOTIFYed inside the transaction whose
// change it announces (PostgreSQL delivers it on commit and drops it on rollback), and
// parsed by its schema where it arrives — a malformed one is skipped, never trusted.
import type pg from "pg";
import type { z } from "zod";

/**
 * NOTIFY `payload` on `channel` as one named statement: each connection parses and plans it once,
 * where the unnamed form was planned again at every call (a busy core's coalesced change
 * announcements, some 0.5 per change: bench/automation-latency --statement-stats).
 */
export function notifyStatement(channel: string, payload: string): pg.QueryConfig {
  return { name: "vantage_notify", text: "SELECT pg_notify($1, $2)", values: [channel, payload] };
}

/** Queues `notice` on `channel` in `tx`: sent only if and when `tx` commits. */
export async function publishNotice(tx: Pick<pg.ClientBase, "query">, channel: string, notice: unknown): Promise<void> {
  await tx.query(notifyStatement(channel, JSON.stringify(notice)));
}

/** A NOTIFY payload as `schema` reads it, or null when it is not one (the subscriber logs and skips it). */
export function parseNotice<Schema extends z.ZodType>(schema: Schema, payload: string): z.output<Schema> | null {
  try {
    const parsed = schema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
