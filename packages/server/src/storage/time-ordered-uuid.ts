// Ids whose order follows the time they were made (UUIDv7, RFC 9562, from the `uuid` package):
// a 48-bit Unix timestamp in milliseconds, then random bits (and, for ids made in one process
// within one millisecond, a counter that keeps them in order). For rows inserted at a high rate
// into B-tree indexes.
//
// Why: an index keyed by a random (v4) uuid takes each insert on a random leaf page, so after
// every checkpoint nearly every insert is the first change of its page and logs the whole
// 8 KB page (a full-page image). An id made now sorts after every earlier one: its inserts go
// to the index's rightmost pages, as a sequence's do. Still a uuid of PostgreSQL's type that
// every schema of ours accepts (protocol's uuidSchema takes any version).
import { v7 } from "uuid";

/** A lower-case UUIDv7 for now, or for the instant `nowMs` (epoch ms); ids of later milliseconds sort after it. */
export function timeOrderedUuid(nowMs?: number): string {
  return nowMs === undefined ? v7() : v7({ msecs: nowMs });
}
