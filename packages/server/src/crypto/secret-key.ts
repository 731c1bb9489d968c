// The one key that encrypts secrets at rest: from VANTAGE_SECRET_KEY, or generated once into
// the data directory. Every process sharing a database must hold the same key.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { isVantageError, VantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createLockedSecretBox, createSecretBox, type SecretBox } from "./secret-box.ts";

export const SECRET_KEY_BYTES = 32;
export const SECRET_KEY_FILE = "secret.key";

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}$/;

/** 64 hex characters or 32 bytes in base64 (or base64url) as a key; undefined for anything else. */
export function parseSecretKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (HEX_KEY.test(value)) return Buffer.from(value, "hex");
  if (!BASE64_KEY.test(value)) return undefined;
  const key = Buffer.from(value, value.includes("-") || value.includes("_") ? "base64url" : "base64");
  return key.length === SECRET_KEY_BYTES ? key : undefined;
}

export const SECRET_KEY_FORMAT = "must be 32 bytes as 64 hex characters or base64 (generate one with `openssl rand -hex 32`)";

export interface LoadSecretKeyOptions {
  /** VANTAGE_SECRET_KEY, already parsed by the config. */
  configuredKey?: Buffer;
  dataDir: string;
  /** Set when the database is shared: then a key is never invented by one process alone. */
  databaseUrl?: string;
  logger: Logger;
}

function readKeyFile(file: string): Promise<Buffer | undefined> {
  return readFile(file, "utf8").then(
    (text) => {
      const key = parseSecretKey(text);
      if (!key)
        throw new VantageError("fatal", "bad_secret_key_file", `The key file ${file} ${SECRET_KEY_FORMAT}; fix or replace it (or set VANTAGE_SECRET_KEY).`);
      return key;
    },
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw new VantageError("fatal", "secret_key_unreadable", `Cannot read the key file ${file}: ${error.message}`, { cause: error });
    },
  );
}

/**
 * The configured key; else `<dataDir>/secret.key`; else, with the embedded database only, a
 * new key written there (mode 0600). With DATABASE_URL and neither, it refuses: a key invented
 * by one process would make every other process unable to read what this one stored.
 */
export async function loadSecretKey(options: LoadSecretKeyOptions): Promise<Buffer> {
  if (options.configuredKey) return options.configuredKey;
  const file = path.join(options.dataDir, SECRET_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) {
    options.logger.info({ file }, "using the secret key in the data directory");
    return existing;
  }
  if (options.databaseUrl !== undefined) {
    throw new VantageError(
      "fatal",
      "secret_key_missing",
      `VANTAGE_SECRET_KEY is not set and ${file} does not exist. With DATABASE_URL, every core process must share one key: ` +
        "generate it once with `openssl rand -hex 32` and set VANTAGE_SECRET_KEY to it on every process.",
    );
  }
  const key = randomBytes(SECRET_KEY_BYTES);
  try {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    // "wx": two processes starting on one data directory cannot both write a key.
    await writeFile(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return (await readKeyFile(file))!;
    throw new VantageError("fatal", "secret_key_unwritable", `Cannot write a new key to ${file}: ${(error as Error).message}`, { cause: error });
  }
  options.logger.warn(
    { file },
    `generated a secret key into ${file}; back it up with the data directory: without it, stored secrets (notification channels) cannot be decrypted`,
  );
  return key;
}

/**
 * The secret box of this process: under the key loadSecretKey finds. With DATABASE_URL and
 * no key anywhere, a locked box (and a warning) instead of a refusal to start: only storing
 * or reading secrets fails, with the message that says how to set the key.
 */
export async function openSecretBox(options: LoadSecretKeyOptions): Promise<SecretBox> {
  try {
    return createSecretBox(await loadSecretKey(options));
  } catch (error) {
    if (!isVantageError(error) || error.code !== "secret_key_missing") throw error;
    options.logger.warn(`${error.message} Until then, secrets (notification channels) cannot be stored or read.`);
    return createLockedSecretBox(new VantageError("conflict", "secret_key_missing", error.message));
  }
}
