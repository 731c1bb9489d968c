// Notices larger than one NOTIFY payload (PostgreSQL refuses more than 8,000 bytes): the text is
// split into parts NOTIFYed in one statement — delivered together on commit, or not at all —
// and put together again where they arrive. For the few messages that carry a whole check
// definition or result between core processes (runs on demand on a satellite held elsewhere).
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { parseNotice } from "./notices.ts";

/** Characters of base64 per part: with its envelope, well under PostgreSQL's 8,000 bytes. */
const PART_CHARS = 7_000;
/** The largest text a large notice carries (UTF-8 bytes): far above a definition or a result. */
export const MAX_LARGE_NOTICE_BYTES = 512 * 1024;
const MAX_PARTS = Math.ceil((MAX_LARGE_NOTICE_BYTES * 4) / 3 / PART_CHARS) + 1;

const partSchema = z.object({
  id: z.uuid(),
  i: z.number().int().nonnegative().max(MAX_PARTS),
  n: z.number().int().positive().max(MAX_PARTS),
  d: z.string().max(PART_CHARS),
});

/**
 * Queues `text` on `channel` in `db`'s transaction (or as its own, outside one): every part, or
 * none. Base64 keeps each part's size exact whatever the text holds.
 */
export async function publishLargeNotice(db: Pick<pg.ClientBase, "query">, channel: string, text: string): Promise<void> {
  const data = Buffer.from(text, "utf8");
  if (data.length > MAX_LARGE_NOTICE_BYTES) throw new RangeError(`a notice of ${data.length} bytes is over the ${MAX_LARGE_NOTICE_BYTES} bytes one may carry`);
  const encoded = data.toString("base64");
  const id = randomUUID();
  const n = Math.max(1, Math.ceil(encoded.length / PART_CHARS));
  const parts = Array.from({ length: n }, (_, i) => JSON.stringify({ id, i, n, d: encoded.slice(i * PART_CHARS, (i + 1) * PART_CHARS) }));
  await db.query("SELECT pg_notify($1, part) FROM unnest($2::text[]) AS part", [channel, parts]);
}

export interface LargeNoticeAssembler {
  /** Takes one part; the whole text once its last part arrived, else null (also for a malformed part). */
  add(payload: string): string | null;
}

/**
 * Puts parts together. Parts of one notice arrive together (one commit), so few notices are
 * ever incomplete; at most `maxIncomplete` are kept (the oldest dropped: its sender times out).
 */
export function createLargeNoticeAssembler(options: { maxIncomplete?: number } = {}): LargeNoticeAssembler {
  const maxIncomplete = options.maxIncomplete ?? 100;
  const incomplete = new Map<string, { parts: Array<string | undefined>; missing: number }>();
  return {
    add(payload) {
      const part = parseNotice(partSchema, payload);
      if (!part || part.i >= part.n) return null;
      if (part.n === 1) return Buffer.from(part.d, "base64").toString("utf8");
      let entry = incomplete.get(part.id);
      if (!entry) {
        entry = { parts: new Array<string | undefined>(part.n), missing: part.n };
        incomplete.set(part.id, entry);
        if (incomplete.size > maxIncomplete) incomplete.delete(incomplete.keys().next().value!);
      }
      if (entry.parts.length !== part.n || entry.parts[part.i] !== undefined) return null;
      entry.parts[part.i] = part.d;
      if (--entry.missing > 0) return null;
      incomplete.delete(part.id);
      return Buffer.from(entry.parts.join(""), "base64").toString("utf8");
    },
  };
}
