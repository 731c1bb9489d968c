// Users' passwords: generated ones (shown once), and the check of a login that takes as long
// for an unknown e-mail as for a known one.
import { randomBytes } from "node:crypto";
import { checkSecret, hashPassword } from "../secrets.ts";

/** 144 random bits in 24 base64url characters: far beyond guessing, short enough to type once. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

let decoy: Promise<string> | undefined;

/**
 * Checks `password` against `stored`, or, when there is no such user, against a hash of
 * nothing made once per process with the same parameters: both cost one scrypt, so the
 * answer's timing does not tell which e-mail addresses have accounts.
 */
export async function checkPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (stored === undefined) {
    decoy ??= hashPassword(randomBytes(32).toString("base64"));
    await checkSecret(password, await decoy);
    return false;
  }
  return (await checkSecret(password, stored)) === "valid";
}
