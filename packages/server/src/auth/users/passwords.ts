// Users' passwords: generated ones (shown once), their hashes, and the check of a login that
// takes as long for an unknown e-mail as for a known one.
import { randomBytes } from "node:crypto";
import { checkSecret, hashPassword, PASSWORD_PARAMS, type ScryptParams } from "../secrets.ts";

/** 144 random bits in 24 base64url characters: far beyond guessing, short enough to type once. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

export interface Passwords {
  hash(password: string): Promise<string>;
  /**
   * Checks `password` against `stored`, or, when there is no such user, against a hash of
   * nothing made once with the same parameters: both cost one scrypt, so the answer's timing
   * does not tell which e-mail addresses have accounts.
   */
  check(password: string, stored: string | undefined): Promise<boolean>;
}

/** Hashing at `params` (production: PASSWORD_PARAMS; tests pass a cheap cost to stay fast). */
export function createPasswords(params: ScryptParams = PASSWORD_PARAMS): Passwords {
  let decoy: Promise<string> | undefined;
  return {
    hash: (password) => hashPassword(password, params),
    async check(password, stored) {
      if (stored === undefined) {
        decoy ??= hashPassword(randomBytes(32).toString("base64"), params);
        await checkSecret(password, await decoy);
        return false;
      }
      return (await checkSecret(password, stored)) === "valid";
    },
  };
}
