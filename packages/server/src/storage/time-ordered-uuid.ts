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
//
// Why a pool of random bytes: the package draws its 16 bytes per id with WebCrypto's
// getRandomValues, ~5–7 µs of CPU each on Node 20 (argument checks and a synchronous crypto
// job per call), against ~0.2 µs for node's own randomUUID, which refills a pool. Every entity
// change and every automation run makes one, so a satellite connect storm paid it per connect.
// The bytes are the same CSPRNG's (randomFillSync), drawn 4 KiB at a time and never reused.
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

const ID_BYTES = 16;
const pool = new Uint8Array(256 * ID_BYTES);
let poolOffset = pool.length;

/** 16 fresh random bytes (a view into the pool: read before the next call). */
function randomBytes16(): Uint8Array {
  if (poolOffset + ID_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return bytes;
}

/**
 * The package's own order for ids made "now" (its v7() without options keeps it, but only with
 * its own random bytes): a new millisecond starts the 31-bit counter at a random value, and
 * each further id in the same millisecond counts up; when the counter wraps, the ids go on in
 * the next millisecond. So ids of one process never go backwards, even within a millisecond.
 */
const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/** The counter's start for a new millisecond, as the package takes it from the random bytes. */
const sequenceOf = (random: Uint8Array) => ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;

/** A lower-case UUIDv7 for now, or for the instant `nowMs` (epoch ms); ids of later milliseconds sort after it. */
export function timeOrderedUuid(nowMs?: number): string {
  const random = randomBytes16();
  if (nowMs !== undefined) return v7({ msecs: nowMs, random });
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = sequenceOf(random);
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs += 1;
  }
  return v7({ msecs: clock.msecs, seq: clock.seq, random });
}
