// Encrypts small secrets at rest with AES-256-GCM: a random 12-byte IV per value, and a
// versioned text format that names the key it was sealed under, so a wrong key is told apart.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { VantageError } from "../errors.ts";
import { SECRET_KEY_BYTES } from "./secret-key.ts";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  /** A short public fingerprint of the key (not the key), shown in errors and logs. */
  readonly keyId: string;
  /**
   * `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64). `context` (e.g. a row id) is bound to the
   * value as associated data: a value copied to another row does not decrypt there.
   */
  seal(plaintext: string, context?: string): string;
  /** The plaintext; a VantageError when the key or context differs or the value is damaged. */
  open(sealed: string, context?: string): string;
}

function fingerprint(key: Buffer): string {
  return createHash("sha256").update("vantage secret-box key id\0").update(key).digest("hex").slice(0, 8);
}

function wrongKey(sealedUnder: string, keyId: string): VantageError {
  return new VantageError(
    "fatal",
    "secret_key_mismatch",
    `A stored secret was encrypted under key ${sealedUnder}, but this process has key ${keyId}. ` +
      "Start every core process with the key that encrypted it (VANTAGE_SECRET_KEY, or secret.key in the data directory); " +
      "if that key is lost, enter the secrets again.",
  );
}

function damaged(reason: string, cause?: unknown): VantageError {
  return new VantageError("fatal", "secret_undecryptable", `A stored secret cannot be decrypted (${reason}); enter it again.`, { cause });
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== SECRET_KEY_BYTES)
    throw new VantageError("fatal", "bad_secret_key", `The secret key must be ${SECRET_KEY_BYTES} bytes; got ${key.length}.`);
  const keyId = fingerprint(key);

  return {
    keyId,
    seal(plaintext, context = "") {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, keyId, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
    },
    open(sealed, context = "") {
      const parts = sealed.split(":");
      if (parts.length !== 5 || parts[0] !== VERSION) throw damaged(`unknown format ${JSON.stringify(parts[0])}`);
      const [, sealedUnder, iv, tag, ciphertext] = parts as [string, string, string, string, string];
      if (sealedUnder !== keyId) throw wrongKey(sealedUnder, keyId);
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(Buffer.from(tag, "base64"));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64")), decipher.final()]).toString("utf8");
      } catch (error) {
        throw damaged("its authentication tag does not match: it was altered or belongs to another record", error);
      }
    },
  };
}

/**
 * A box without a key: every seal or open fails with `reason`. Lets a core that shares a
 * database (DATABASE_URL) but was given no key start and serve everything else, while
 * anything that needs a stored secret says exactly what to configure.
 */
export function createLockedSecretBox(reason: VantageError): SecretBox {
  return {
    keyId: "none",
    seal() {
      throw reason;
    },
    open() {
      throw reason;
    },
  };
}
