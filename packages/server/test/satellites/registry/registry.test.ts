// Satellite credentials checked by SHA-256 (hellos batched into one query, scrypt tokens upgraded once), and revocations delivered only on commit.
import { createHash, randomUUID, scrypt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SatelliteRegistry, SatelliteService } from "../../../src/satellites/index.ts";
import { parseRevocation, publishRevocation, SATELLITE_REVOKED_CHANNEL } from "../../../src/satellites/registry/revocations.ts";
import { hashSecret } from "../../../src/auth/secrets.ts";
import { generateSatelliteToken } from "../../../src/satellites/registry/tokens.ts";
import { withTransaction } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { hashWork, scryptWork } from "../../support/scrypt-spy.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";

vi.mock("node:crypto", async (importOriginal) => (await import("../../support/scrypt-spy.ts")).withScryptSpy(importOriginal));

let instance: TestInstance;
let registry: SatelliteRegistry;

beforeAll(async () => {
  instance = await startTestInstance((await createTestDatabase()).url, "registry");
  const satellites = new SatelliteService({ pool: instance.pool, entities: instance.entities });
  registry = new SatelliteRegistry({ pool: instance.pool, satellites });
});

afterAll(async () => {
  await instance?.stop();
});

describe("SatelliteRegistry.verifyCredentials", () => {
  it("returns the satellite for its current token, with its effective threshold", async () => {
    const { satellite, token } = await registry.create({ name: "creds-1", region: "eu-west", tags: ["a"], offlineThresholdMs: 60_000 });
    expect(await registry.verifyCredentials(satellite.id, token)).toEqual({
      id: satellite.id,
      name: "creds-1",
      region: "eu-west",
      tags: ["a"],
      offlineThresholdMs: 60_000,
      effectiveOfflineThresholdMs: 60_000,
    });
  });

  it("looks up the credentials of hellos arriving together in one query, each answered on its own", async () => {
    const created = await Promise.all([1, 2, 3, 4, 5].map((n) => registry.create({ name: `batch-${n}`, region: "eu-west" })));
    const query = vi.spyOn(instance.pool, "query");
    try {
      const verdicts = await Promise.all([
        ...created.map(({ satellite, token }) => registry.verifyCredentials(satellite.id, token)),
        registry.verifyCredentials(created[0]!.satellite.id, created[1]!.token),
        registry.verifyCredentials(randomUUID(), created[0]!.token),
      ]);
      expect(verdicts.map((verdict) => (verdict && typeof verdict === "object" ? verdict.name : verdict))).toEqual([
        "batch-1",
        "batch-2",
        "batch-3",
        "batch-4",
        "batch-5",
        null,
        null,
      ]);
      const lookups = query.mock.calls.filter(([sql]) => (sql as { name?: string } | undefined)?.name === "vantage_satellite_credentials");
      expect(lookups).toHaveLength(1);
    } finally {
      query.mockRestore();
    }
  });

  it("returns null for another satellite's token", async () => {
    const first = await registry.create({ name: "creds-2", region: "eu" });
    const second = await registry.create({ name: "creds-3", region: "eu" });
    expect(await registry.verifyCredentials(first.satellite.id, second.token)).toBeNull();
  });

  it.each([
    ["an unknown id", randomUUID()],
    ["an id that is not a uuid", "sat-1"],
  ])("checks %s against the decoy: null, after the same hashing as a real check", async (_what, id) => {
    const { satellite, token } = await registry.create({ name: `creds-${randomUUID()}`, region: "eu" });
    const real = await hashWork(createHash, () => registry.verifyCredentials(satellite.id, generateSatelliteToken()));
    const decoy = await hashWork(createHash, () => registry.verifyCredentials(id, token));
    expect(real.result).toBeNull();
    expect(decoy.result).toBeNull();
    expect(decoy.algorithms).toEqual(["sha256"]);
    expect(decoy.algorithms).toEqual(real.algorithms);
  });

  it("stores a new or rotated token as its SHA-256 and checks it without scrypt", async () => {
    const { satellite, token } = await registry.create({ name: "creds-sha", region: "eu" });
    expect(await tokenHash(satellite.id)).toMatch(/^sha256\$/);
    const work = await scryptWork(scrypt, () => registry.verifyCredentials(satellite.id, token));
    expect(work.result).toMatchObject({ id: satellite.id });
    expect(work.calls).toEqual([]);
    const rotated = await registry.rotateToken(satellite.id);
    expect(await tokenHash(satellite.id)).toMatch(/^sha256\$/);
    expect(await registry.verifyCredentials(satellite.id, rotated.token)).toMatchObject({ id: satellite.id });
  });

  it("verifies a token stored as scrypt once, then stores its SHA-256 so the next check costs no scrypt", async () => {
    const { satellite, token } = await registry.create({ name: "creds-legacy", region: "eu" });
    await instance.pool.query("UPDATE satellites SET token_hash = $2 WHERE id = $1", [satellite.id, await hashSecret(token)]);

    expect(await registry.verifyCredentials(satellite.id, generateSatelliteToken())).toBeNull();
    expect(await tokenHash(satellite.id)).toMatch(/^scrypt\$/); // a wrong token upgrades nothing
    const first = await scryptWork(scrypt, () => registry.verifyCredentials(satellite.id, token));
    expect(first.result).toMatchObject({ id: satellite.id });
    expect(first.calls).toHaveLength(1);
    expect(await tokenHash(satellite.id)).toBe(`sha256$${createHash("sha256").update(token).digest("base64")}`);
    const second = await scryptWork(scrypt, () => registry.verifyCredentials(satellite.id, token));
    expect(second.result).toMatchObject({ id: satellite.id });
    expect(second.calls).toEqual([]);
  });

  it("answers refused without running scrypt when slow checks are not allowed, and still checks SHA-256 tokens", async () => {
    const legacy = await registry.create({ name: "creds-refused", region: "eu" });
    await instance.pool.query("UPDATE satellites SET token_hash = $2 WHERE id = $1", [legacy.satellite.id, await hashSecret(legacy.token)]);
    const refused = await scryptWork(scrypt, () => registry.verifyCredentials(legacy.satellite.id, legacy.token, { slow: false }));
    expect(refused).toEqual({ result: "refused", calls: [] });
    expect(await tokenHash(legacy.satellite.id)).toMatch(/^scrypt\$/);

    const current = await registry.create({ name: "creds-cheap", region: "eu" });
    expect(await registry.verifyCredentials(current.satellite.id, current.token, { slow: false })).toMatchObject({ id: current.satellite.id });
    expect(await registry.verifyCredentials(current.satellite.id, legacy.token, { slow: false })).toBeNull();
  });
});

async function tokenHash(id: string): Promise<string> {
  const { rows } = await instance.pool.query<{ token_hash: string }>("SELECT token_hash FROM satellites WHERE id = $1", [id]);
  return rows[0]!.token_hash;
}

describe("revocations", () => {
  it("are delivered on commit and never for a rolled-back write", async () => {
    const received: string[] = [];
    const signal = createSignal();
    const unsubscribe = await instance.hub.subscribe(SATELLITE_REVOKED_CHANNEL, (payload) => {
      received.push(payload);
      signal.emit();
    });
    try {
      const rolledBack = randomUUID();
      const committed = randomUUID();
      await expect(
        withTransaction(instance.pool, async (tx) => {
          await publishRevocation(tx, { satelliteId: rolledBack, reason: "deleted" });
          throw new Error("the write failed");
        }),
      ).rejects.toThrow("the write failed");
      await withTransaction(instance.pool, (tx) => publishRevocation(tx, { satelliteId: committed, reason: "token_rotated" }));

      await waitFor(() => received.length > 0, signal.subscribe, 5_000, "the committed revocation");
      expect(received.map(parseRevocation)).toEqual([{ satelliteId: committed, reason: "token_rotated" }]);
    } finally {
      await unsubscribe();
    }
  });

  it("parse as null when the payload is not a revocation", () => {
    for (const payload of ["", "{", "null", '{"satelliteId":"x"}', '{"satelliteId":"x","reason":"server_shutdown"}']) {
      expect(parseRevocation(payload), payload).toBeNull();
    }
    expect(parseRevocation('{"satelliteId":"x","reason":"deleted"}')).toEqual({ satelliteId: "x", reason: "deleted" });
  });
});
