// The registry of advisory-lock keys: no two builders can produce the same key, and no entity
// kind can be defined whose locks would meet a run's.
import fc from "fast-check";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HashedLockPrefix, LockKey } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";

// Ids as the callers pass them (uuids, often the same few so that draws meet), and any text
// where the caller passes free text.
const uuid = fc.oneof(fc.constantFrom("8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10", "0b7c1a52-93d4-4c47-a1a4-2f6c8e5d9b01"), fc.uuid());
const entityKind = fc.oneof(
  fc.constantFrom("satellite-connection", "check-health", "automation", "thing", ...Object.values(HashedLockPrefix)),
  fc.string({ minLength: 1, maxLength: 30 }),
);
const text = fc.oneof(uuid, fc.constantFrom("*", "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10:*"), fc.string({ maxLength: 30 }));

/** Every builder with its arguments, tagged so two draws can be told apart. */
const anyKey = fc.oneof(
  fc.tuple(entityKind, text).map(([kind, id]) => ({ builder: "entity", args: [kind, id], build: () => LockKey.entity(kind, id) })),
  uuid.map((runId) => ({ builder: "run", args: [runId], build: () => LockKey.run(runId) })),
  fc.tuple(uuid, fc.option(text)).map(([id, context]) => ({ builder: "runScope", args: [id, context], build: () => LockKey.runScope(id, context) })),
  uuid.map((runId) => ({ builder: "runWake", args: [runId], build: () => LockKey.runWake(runId) })),
);

/** The key, or null where the builder refuses its arguments (an entity kind that would be ambiguous). */
function keyOrRefused(draw: { build: () => string }): string | null {
  try {
    return draw.build();
  } catch {
    return null;
  }
}

describe("advisory lock keys", () => {
  it("never gives two different builders the same key", () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        const [keyA, keyB] = [keyOrRefused(a), keyOrRefused(b)];
        if (a.builder !== b.builder && keyA !== null && keyB !== null) expect(keyA).not.toBe(keyB);
      }),
      { seed: 10, numRuns: 5_000 },
    );
  });

  it('gives two run scopes the same key only for the whole automation and the context key "*", by design', () => {
    const automation = "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10";
    // The one shared key (see LockKey.runScope): it only serializes more, and keeps the key of an
    // unscoped automation what older cores take.
    expect(LockKey.runScope(automation, null)).toBe(LockKey.runScope(automation, "*"));
    expect(LockKey.runScope(automation, null)).toBe(`automation-scope:${automation}:*`);
    const scope = fc.tuple(uuid, fc.option(text));
    const sameScope = ([idA, contextA]: [string, string | null], [idB, contextB]: [string, string | null]) =>
      idA === idB && (contextA ?? "*") === (contextB ?? "*");
    fc.assert(
      fc.property(scope, scope, (a, b) => {
        if (!sameScope(a, b)) expect(LockKey.runScope(...a)).not.toBe(LockKey.runScope(...b));
      }),
      { seed: 10, numRuns: 5_000 },
    );
  });

  it("gives an entity kind named like a run's lock no key, so it cannot take the run's lock", () => {
    for (const prefix of Object.values(HashedLockPrefix)) {
      expect(() => LockKey.entity(prefix, "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10")).toThrow(/reserved/);
    }
    expect(() => LockKey.entity("automation-run:8f0e4f38", "x")).toThrow(/":"/);
  });

  it('gives two different entities of kinds without ":" different keys', () => {
    fc.assert(
      fc.property(entityKind, text, entityKind, text, (kindA, idA, kindB, idB) => {
        const [keyA, keyB] = [keyOrRefused({ build: () => LockKey.entity(kindA, idA) }), keyOrRefused({ build: () => LockKey.entity(kindB, idB) })];
        if (keyA !== null && keyB !== null && (kindA !== kindB || idA !== idB)) expect(keyA).not.toBe(keyB);
      }),
      { seed: 10, numRuns: 5_000 },
    );
  });
});

describe("defining an entity kind", () => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance((await createTestDatabase()).url, "advisory-locks");
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("refuses a kind named like a run lock prefix", () => {
    for (const kind of ["automation-run", "automation-scope", "automation-run-wake"]) {
      expect(() => instance.entities.defineEntity({ kind, schema: z.object({}), read: async () => new Map() })).toThrow(
        expect.objectContaining({ code: "invalid_entity_kind" }),
      );
    }
  });

  it('refuses a kind containing ":"', () => {
    expect(() => instance.entities.defineEntity({ kind: "a:b", schema: z.object({}), read: async () => new Map() })).toThrow(
      expect.objectContaining({ code: "invalid_entity_kind" }),
    );
  });
});
