// Observes node:crypto's scrypt and createHash, for tests that must see hashing work done or
// skipped (the decoy, the verification cache, the limiter) without timing anything. Imports
// node:crypto only as a type, so the mock factory that loads it cannot wait on itself.
import type * as Crypto from "node:crypto";
import { vi } from "vitest";

/** Use as `vi.mock("node:crypto", async (original) => (await import("…/scrypt-spy.ts")).withScryptSpy(original))`. */
export async function withScryptSpy(importOriginal: () => Promise<typeof Crypto>): Promise<typeof Crypto> {
  const actual = await importOriginal();
  return {
    ...actual,
    scrypt: vi.fn(actual.scrypt) as unknown as typeof Crypto.scrypt,
    createHash: vi.fn(actual.createHash) as unknown as typeof Crypto.createHash,
  };
}

/** What `check` returned and the scrypt calls it made, by salt length, key length and cost options. */
export async function scryptWork<T>(scrypt: typeof Crypto.scrypt, check: () => Promise<T>): Promise<{ result: T; calls: unknown[][] }> {
  const spy = vi.mocked(scrypt);
  spy.mockClear();
  const result = await check();
  return { result, calls: spy.mock.calls.map(([, salt, keyLength, options]) => [(salt as Buffer).length, keyLength, options]) };
}

/** What `check` returned and the algorithms of the hashes it created, in order. */
export async function hashWork<T>(createHash: typeof Crypto.createHash, check: () => Promise<T>): Promise<{ result: T; algorithms: string[] }> {
  const spy = vi.mocked(createHash);
  spy.mockClear();
  const result = await check();
  return { result, algorithms: spy.mock.calls.map(([algorithm]) => algorithm) };
}
