// Bearer secrets (admin and satellite tokens): generation, a slow salted scrypt hash that
// names its own parameters, and constant-time verification, including against a decoy.
import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from "node:crypto";

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** About 40 ms on one core of the reference machines: slow for a guesser, fine per connect. */
const DEFAULT_PARAMS: ScryptParams = { N: 16_384, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SECRET_BYTES = 32;

// What a stored hash may ask for: anything outside these bounds was not written by us and
// must not make one verification allocate gigabytes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

/** `<prefix>_` + 32 random bytes in base64url (43 characters). */
export function generateSecret(prefix: string): string {
  return `${prefix}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
}

function derive(secret: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; the default 32 MiB cap would refuse the larger N we accept.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize("NFC"), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function format(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

const STORED_HASH = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function parse(stored: string): ParsedHash | undefined {
  const match = STORED_HASH.exec(stored);
  if (!match) return undefined;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const isPowerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!isPowerOfTwo || N > MAX_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
  const salt = Buffer.from(match[4]!, "base64");
  const hash = Buffer.from(match[5]!, "base64");
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { params: { N, r, p }, salt, hash };
}

/** `scrypt$N$r$p$<salt base64>$<hash base64>` with a fresh random salt. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return format(DEFAULT_PARAMS, salt, await derive(secret, salt, HASH_BYTES, DEFAULT_PARAMS));
}

/** Whether `secret` hashes to `stored`, compared in constant time. A malformed `stored` never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const derived = await derive(secret, parsed.salt, parsed.hash.length, parsed.params);
  return timingSafeEqual(derived, parsed.hash);
}

// A hash of no known secret, made once per process from random bytes: verifying against it
// costs exactly what verifying a real token costs, so an unknown id is not told apart by time.
const DECOY_HASH = format(DEFAULT_PARAMS, randomBytes(SALT_BYTES), randomBytes(HASH_BYTES));

/** Spends one verification's time and answers false: for credentials naming nothing. */
export async function verifyAgainstDecoy(secret: string): Promise<false> {
  await verifySecret(secret, DECOY_HASH);
  return false;
}
