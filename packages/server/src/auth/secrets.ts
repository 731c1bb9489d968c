// Bearer secrets (admin and satellite tokens): generation, their stored hashes (SHA-256 for
// our random tokens, salted scrypt for secrets a person chose), constant-time verification.
import { createHash, randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from "node:crypto";

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** About 40 ms on one core of the reference machines: slow for a guesser, fine per connect. */
const DEFAULT_PARAMS: ScryptParams = { N: 16_384, r: 8, p: 1 };
/**
 * For users' passwords, OWASP's scrypt recommendation (128 MiB, a few hundred ms): a login is
 * rare and rate limited, and a stolen users table must cost a guesser that much per try.
 */
export const PASSWORD_PARAMS: ScryptParams = Object.freeze({ N: 131_072, r: 8, p: 1 });
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

/**
 * `scrypt$N$r$p$<salt base64>$<hash base64>` with a fresh random salt: for secrets a person
 * chose (VANTAGE_ADMIN_TOKEN), whose entropy a stolen hash must not make cheap to search.
 */
export async function hashSecret(secret: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return format(params, salt, await derive(secret, salt, HASH_BYTES, params));
}

/** A user's password, with the stronger parameters; checked by `checkSecret` like any scrypt hash. */
export function hashPassword(password: string, params: ScryptParams = PASSWORD_PARAMS): Promise<string> {
  return hashSecret(password, params);
}

const SHA256_PREFIX = "sha256$";
const STORED_SHA256 = /^sha256\$([A-Za-z0-9+/]{43}=)$/;

function sha256(secret: string): Buffer {
  return createHash("sha256").update(secret.normalize("NFC")).digest();
}

/**
 * `sha256$<digest base64>`: for the tokens we generate. 256 random bits cannot be guessed, so
 * key stretching buys nothing and would make every reconnect of a fleet cost CPU-seconds.
 */
export function hashToken(token: string): string {
  return `${SHA256_PREFIX}${sha256(token).toString("base64")}`;
}

/** Whether checking a secret against `stored` costs a slow hash (scrypt) rather than a SHA-256. */
export function isSlowHash(stored: string): boolean {
  return !stored.startsWith(SHA256_PREFIX);
}

/** What a check may spend: `slow: false` answers "refused" instead of running scrypt. */
export interface VerifyOptions {
  slow?: boolean;
}

/** A credential check's answer: "refused" means only a slow hash could tell, and it was not allowed. */
export type Verdict = "valid" | "invalid" | "refused";

/** Checks `secret` against a stored hash of either kind, in constant time. A malformed `stored` never matches. */
export async function checkSecret(secret: string, stored: string, options: VerifyOptions = {}): Promise<Verdict> {
  const digest = STORED_SHA256.exec(stored);
  if (digest) return timingSafeEqual(sha256(secret), Buffer.from(digest[1]!, "base64")) ? "valid" : "invalid";
  if (options.slow === false) return "refused";
  const parsed = parse(stored);
  if (!parsed) return "invalid";
  const derived = await derive(secret, parsed.salt, parsed.hash.length, parsed.params);
  return timingSafeEqual(derived, parsed.hash) ? "valid" : "invalid";
}

/** Whether `secret` hashes to `stored` (either kind, slow hashes included), compared in constant time. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  return (await checkSecret(secret, stored)) === "valid";
}

// A hash of no known token, made once per process from random bytes: checking against it
// costs exactly what checking a real token costs, so an unknown id is not told apart by time.
const DECOY_HASH = `${SHA256_PREFIX}${randomBytes(32).toString("base64")}`;

/** Spends one token check's time and answers "invalid": for credentials naming nothing. */
export async function verifyAgainstDecoy(secret: string): Promise<"invalid"> {
  await checkSecret(secret, DECOY_HASH);
  return "invalid";
}
