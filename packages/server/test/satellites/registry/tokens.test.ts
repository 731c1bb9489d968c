// Satellite tokens: their format, stored as SHA-256 (older scrypt hashes still verify), and a decoy check as costly as a real one.
import { createHash, randomBytes, scrypt, scryptSync } from "node:crypto";
import { SATELLITE_TOKEN_PATTERN } from "@vantage/protocol";
import { describe, expect, it, vi } from "vitest";
import { checkSecret } from "../../../src/auth/index.ts";
import { hashSecret } from "../../../src/auth/secrets.ts";
import { generateSatelliteToken, hashToken, verifyAgainstDecoy, verifySecret } from "../../../src/satellites/registry/tokens.ts";
import { hashWork, scryptWork } from "../../support/scrypt-spy.ts";

// scrypt and createHash, observed: the decoy must do a real check's work, not take a shortcut.
vi.mock("node:crypto", async (importOriginal) => (await import("../../support/scrypt-spy.ts")).withScryptSpy(importOriginal));

/** A stored hash as tokens had before they were stored as SHA-256. */
async function legacyHash(token: string): Promise<string> {
  return hashSecret(token);
}

describe("satellite tokens", () => {
  it("are vsat_ and 43 base64url characters, matching the protocol's pattern, and never repeat", () => {
    const tokens = Array.from({ length: 50 }, generateSatelliteToken);
    for (const token of tokens) expect(token).toMatch(SATELLITE_TOKEN_PATTERN);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("are stored as their SHA-256, named in the stored string, with no key stretching", async () => {
    const token = generateSatelliteToken();
    const work = await scryptWork(scrypt, async () => hashToken(token));
    expect(work.result).toBe(`sha256$${createHash("sha256").update(token).digest("base64")}`);
    expect(work.calls).toEqual([]);
    expect(work.result).not.toContain(token.slice(5));
  });

  it("verify against their own hash and no other", async () => {
    const token = generateSatelliteToken();
    const stored = hashToken(token);
    expect(await verifySecret(token, stored)).toBe(true);
    expect(await verifySecret(generateSatelliteToken(), stored)).toBe(false);
    expect(await verifySecret(`${token}x`, stored)).toBe(false);
    expect(await verifySecret(token.slice(0, -1), stored)).toBe(false);
  });

  it("still verify against a scrypt hash stored before, and refuse to run scrypt when told not to", async () => {
    const token = generateSatelliteToken();
    const stored = await legacyHash(token);
    expect(await checkSecret(token, stored)).toBe("valid");
    expect(await checkSecret(generateSatelliteToken(), stored)).toBe("invalid");
    const refused = await scryptWork(scrypt, () => checkSecret(token, stored, { slow: false }));
    expect(refused).toEqual({ result: "refused", calls: [] });
    // A SHA-256 hash is checked whatever the option: it costs nothing worth refusing.
    expect(await checkSecret(token, hashToken(token), { slow: false })).toBe("valid");
  });

  it("never verify against a malformed or absurd stored hash", async () => {
    const token = generateSatelliteToken();
    const [, , , , salt, hash] = (await legacyHash(token)).split("$");
    const digest = createHash("sha256").update(token).digest("base64");
    for (const stored of [
      "",
      "hash",
      `bcrypt$16384$8$1$${salt}$${hash}`,
      `scrypt$1000$8$1$${salt}$${hash}`,
      `scrypt$1073741824$8$1$${salt}$${hash}`,
      `scrypt$16384$8$1$${salt}$`,
      `sha256$${digest.slice(0, -2)}`,
      `sha256$${digest}x`,
      `SHA256$${digest}`,
    ]) {
      expect(await verifySecret(token, stored), stored).toBe(false);
    }
  });

  it("verify scrypt hashes made with other cost parameters (the format names its own)", async () => {
    const salt = randomBytes(16);
    const hash = scryptSync("s3cret-token", salt, 32, { N: 1024, r: 4, p: 2 });
    const stored = `scrypt$1024$4$2$${salt.toString("base64")}$${hash.toString("base64")}`;
    expect(await verifySecret("s3cret-token", stored)).toBe(true);
    expect(await verifySecret("s3cret-tokem", stored)).toBe(false);
  });

  it("check a token against the decoy as invalid, doing the same hashing as a real check", async () => {
    const token = generateSatelliteToken();
    const stored = hashToken(token);
    const real = await hashWork(createHash, () => verifySecret(token, stored));
    const decoy = await hashWork(createHash, () => verifyAgainstDecoy(token));
    expect(real.result).toBe(true);
    expect(decoy.result).toBe("invalid");
    expect(real.algorithms).toEqual(["sha256"]);
    expect(decoy.algorithms).toEqual(real.algorithms);
  });
});
