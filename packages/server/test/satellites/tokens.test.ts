import { randomBytes, scrypt, scryptSync } from "node:crypto";
import { SATELLITE_TOKEN_PATTERN } from "@vantage/protocol";
import { describe, expect, it, vi } from "vitest";
import { generateSatelliteToken, hashSecret, verifyAgainstDecoy, verifySecret } from "../../src/satellites/tokens.ts";
import { scryptWork } from "../support/scrypt-spy.ts";

// scrypt, observed: the decoy must do a real check's work, not take a shortcut.
vi.mock("node:crypto", async (importOriginal) => (await import("../support/scrypt-spy.ts")).withScryptSpy(importOriginal));

describe("satellite tokens", () => {
  it("are vsat_ and 43 base64url characters, matching the protocol's pattern, and never repeat", () => {
    const tokens = Array.from({ length: 50 }, generateSatelliteToken);
    for (const token of tokens) expect(token).toMatch(SATELLITE_TOKEN_PATTERN);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("hash to a self-describing scrypt string with a fresh salt each time", async () => {
    const token = generateSatelliteToken();
    const [first, second] = await Promise.all([hashSecret(token), hashSecret(token)]);
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain(token.slice(5));
  });

  it("verify against their own hash and no other", async () => {
    const token = generateSatelliteToken();
    const stored = await hashSecret(token);
    expect(await verifySecret(token, stored)).toBe(true);
    expect(await verifySecret(generateSatelliteToken(), stored)).toBe(false);
    expect(await verifySecret(`${token}x`, stored)).toBe(false);
    expect(await verifySecret(token.slice(0, -1), stored)).toBe(false);
  });

  it("never verify against a malformed or absurd stored hash", async () => {
    const token = generateSatelliteToken();
    const [, , , , salt, hash] = (await hashSecret(token)).split("$");
    for (const stored of ["", "hash", `bcrypt$16384$8$1$${salt}$${hash}`, `scrypt$1000$8$1$${salt}$${hash}`, `scrypt$1073741824$8$1$${salt}$${hash}`, `scrypt$16384$8$1$${salt}$`]) {
      expect(await verifySecret(token, stored), stored).toBe(false);
    }
  });

  it("verify hashes made with other cost parameters (the format names its own)", async () => {
    const salt = randomBytes(16);
    const hash = scryptSync("s3cret-token", salt, 32, { N: 1024, r: 4, p: 2 });
    const stored = `scrypt$1024$4$2$${salt.toString("base64")}$${hash.toString("base64")}`;
    expect(await verifySecret("s3cret-token", stored)).toBe(true);
    expect(await verifySecret("s3cret-tokem", stored)).toBe(false);
  });

  it("check a token against the decoy as false, doing the same scrypt work as a real check", async () => {
    const token = generateSatelliteToken();
    const stored = await hashSecret(token);
    const real = await scryptWork(scrypt, () => verifySecret(token, stored));
    const decoy = await scryptWork(scrypt, () => verifyAgainstDecoy(token));
    expect(real.result).toBe(true);
    expect(decoy.result).toBe(false);
    expect(real.calls).toHaveLength(1);
    expect(decoy.calls).toEqual(real.calls);
  });
});
