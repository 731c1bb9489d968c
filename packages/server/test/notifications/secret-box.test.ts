// The secret box seals values so only the same key and record open them, and the secret key is read and refused without being echoed.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { openSecretBox, parseSecretKey } from "../../src/crypto/index.ts";
import { createSecretBox } from "../../src/crypto/secret-box.ts";
import { loadSecretKey } from "../../src/crypto/secret-key.ts";
import { isVantageError, type VantageError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";

const logger = silentLogger();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vantage-secret-key-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function caught(fn: () => unknown): VantageError {
  try {
    fn();
  } catch (error) {
    if (isVantageError(error)) return error;
    throw error;
  }
  throw new Error("expected a VantageError");
}

async function rejection(promise: Promise<unknown>): Promise<VantageError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isVantageError(error)) throw new Error(`expected a VantageError, got ${String(error)}`);
  return error;
}

describe("the secret box", () => {
  const box = createSecretBox(randomBytes(32));

  it("opens what it sealed, and never shows the plaintext in the sealed text", () => {
    const sealed = box.seal('{"password":"hunter2-hunter2"}', "row-1");
    expect(sealed).toMatch(/^v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain("hunter2");
    expect(box.open(sealed, "row-1")).toBe('{"password":"hunter2-hunter2"}');
  });

  it("seals the same value differently every time (a fresh IV per value)", () => {
    const [first, second] = [box.seal("same", "row-1"), box.seal("same", "row-1")];
    expect(first).not.toBe(second);
    expect(first.split(":")[2]).not.toBe(second.split(":")[2]);
    expect(Buffer.from(first.split(":")[2]!, "base64")).toHaveLength(12);
  });

  it("refuses a value sealed under another key with an error that says what to do", () => {
    const other = createSecretBox(randomBytes(32));
    const error = caught(() => other.open(box.seal("secret", "row-1"), "row-1"));
    expect(error.code).toBe("secret_key_mismatch");
    expect(error.message).toContain(`encrypted under key ${box.keyId}, but this process has key ${other.keyId}`);
    expect(error.message).toMatch(/VANTAGE_SECRET_KEY/);
    expect(error.message).not.toContain('secret"');
  });

  it("refuses a value moved to another record or altered", () => {
    const sealed = box.seal("secret", "row-1");
    expect(caught(() => box.open(sealed, "row-2")).code).toBe("secret_undecryptable");
    const parts = sealed.split(":");
    const ciphertext = Buffer.from(parts[4]!, "base64");
    ciphertext[0]! ^= 1;
    parts[4] = ciphertext.toString("base64");
    expect(caught(() => box.open(parts.join(":"), "row-1")).code).toBe("secret_undecryptable");
    expect(caught(() => box.open("plaintext", "row-1")).message).toMatch(/cannot be decrypted/);
  });
});

describe("the secret key", () => {
  const hex = randomBytes(32).toString("hex");

  it("parses 64 hex characters or 32 bytes of base64, and nothing else", () => {
    const key = Buffer.from(hex, "hex");
    expect(parseSecretKey(hex)).toEqual(key);
    expect(parseSecretKey(` ${key.toString("base64")}\n`)).toEqual(key);
    expect(parseSecretKey(key.toString("base64url"))).toEqual(key);
    for (const bad of [hex.slice(2), `${hex}00`, randomBytes(31).toString("base64"), "not a key", ""]) expect(parseSecretKey(bad), bad).toBeUndefined();
  });

  it("is read from VANTAGE_SECRET_KEY, and a bad one is refused without being echoed", () => {
    expect(loadConfig({ VANTAGE_SECRET_KEY: hex }).secretKey).toEqual(Buffer.from(hex, "hex"));
    expect(loadConfig({}).secretKey).toBeUndefined();
    let message = "";
    try {
      loadConfig({ VANTAGE_SECRET_KEY: "too-short-key" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/VANTAGE_SECRET_KEY must be 32 bytes as 64 hex characters or base64 .*; got <redacted>/);
    expect(message).not.toContain("too-short-key");
  });

  it("prefers the configured key to a key file", async () => {
    const configuredKey = randomBytes(32);
    expect(await loadSecretKey({ configuredKey, dataDir: dir, databaseUrl: "postgres://db/v", logger })).toBe(configuredKey);
  });

  it("is generated once into the data directory with mode 0600 when nothing is configured", async () => {
    const dataDir = path.join(dir, "embedded");
    const first = await loadSecretKey({ dataDir, logger });
    const file = path.join(dataDir, "secret.key");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parseSecretKey(await readFile(file, "utf8"))).toEqual(first);
    expect(await loadSecretKey({ dataDir, logger })).toEqual(first);
    // A second process sharing the database finds the same key in the file.
    expect(await loadSecretKey({ dataDir, databaseUrl: "postgres://db/v", logger })).toEqual(first);
  });

  it("is never invented when DATABASE_URL is set: processes sharing a database must share one key", async () => {
    const error = await rejection(loadSecretKey({ dataDir: path.join(dir, "shared"), databaseUrl: "postgres://db/v", logger }));
    expect(error.kind).toBe("fatal");
    expect(error.code).toBe("secret_key_missing");
    expect(error.message).toMatch(/set VANTAGE_SECRET_KEY .* on every process/);
  });

  it("gives a core sharing a database without a key a locked box that says how to set one", async () => {
    const box = await openSecretBox({ dataDir: path.join(dir, "locked"), databaseUrl: "postgres://db/v", logger });
    expect(() => box.seal("x")).toThrow(/set VANTAGE_SECRET_KEY/);
    expect(() => box.open("v1:a:b:c:d")).toThrow(expect.objectContaining({ kind: "conflict", code: "secret_key_missing" }));
  });

  it("refuses a damaged key file, naming it", async () => {
    const dataDir = path.join(dir, "damaged");
    await loadSecretKey({ dataDir, logger });
    await writeFile(path.join(dataDir, "secret.key"), "garbage\n");
    const error = await rejection(loadSecretKey({ dataDir, logger }));
    expect(error.code).toBe("bad_secret_key_file");
    expect(error.message).toContain(path.join(dataDir, "secret.key"));
  });
});
