// Ids whose order follows the time they were made (UUIDv7, RFC 9562): a 48-bit Unix timestamp
// in milliseconds, then 74 random bits. For rows inserted at a high rate into B-tree indexes.
//
// Why: an index keyed by a random (v4) uuid takes each insert on a random leaf page, so after
// every checkpoint nearly every insert is the first change of its page and logs the whole
// 8 KB page (a full-page image). An id made now sorts after every earlier one: its inserts go
// to the index's rightmost pages, as a sequence's do. Still a uuid of PostgreSQL's type that
// every schema of ours accepts (protocol's uuidSchema takes any version).
import { randomBytes } from "node:crypto";

/** A lower-case UUIDv7 for the instant `nowMs` (epoch ms); ids of later milliseconds sort after it. */
export function timeOrderedUuid(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10 (RFC 9562)
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
