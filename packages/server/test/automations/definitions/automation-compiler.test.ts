// Proves the one compiler of an instance: each entity kind's JSON Schema is derived once, and
// triggers and kinds registered after the compiler was built are known from then on.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createAutomationCompiler, createTriggerRegistry, defineTrigger } from "../../../src/automations/index.ts";
import { createEntityRegistry } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";

const pingTrigger = defineTrigger({
  id: "test.ping",
  displayName: "Ping",
  description: "A test trigger.",
  payloadSchema: z.object({ host: z.string() }),
  contextKey: (payload) => payload.host,
});

/** An entity registry on a pool that never connects: defining kinds reads no database. */
const entityRegistry = () => createEntityRegistry({ pool: new pg.Pool(), logger: silentLogger() });

/** An automation on test.ping whose log message reads `entity('probe', …).<field>`. */
const readingProbe = (field: string) => ({
  name: `reads ${field}`,
  triggers: [{ event: "test.ping" }],
  actions: [{ log: { message: `{{ entity('probe', trigger.payload.host).${field} }}` } }],
});

describe("the automation compiler", () => {
  it("derives each entity kind's JSON Schema once, however many definitions it compiles", () => {
    // Converting a schema to JSON Schema copies its metadata: the getter counts conversions.
    let conversions = 0;
    const schema = z.object({ up: z.boolean() }).meta({
      get description() {
        conversions += 1;
        return "a probe";
      },
    });
    const entities = entityRegistry();
    entities.defineEntity({ kind: "probe", schema, read: async () => new Map() });
    const compiler = createAutomationCompiler({ triggers: createTriggerRegistry([pingTrigger]), entities });

    expect(compiler.compile(readingProbe("up")).ok).toBe(true);
    const afterFirst = conversions;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(compiler.compile(readingProbe("up")).ok).toBe(true);
    expect(compiler.compile(readingProbe("down"))).toMatchObject({ ok: false, errors: [{ path: "actions.0.log.message" }] });
    expect(conversions).toBe(afterFirst);
  });

  it("knows an entity kind defined after it was built, with its fields", () => {
    const entities = entityRegistry();
    const compiler = createAutomationCompiler({ triggers: createTriggerRegistry([pingTrigger]), entities });
    expect(compiler.compile(readingProbe("up"))).toMatchObject({
      ok: false,
      errors: [{ path: "actions.0.log.message", message: expect.stringContaining('unknown entity kind "probe"') }],
    });

    entities.defineEntity({ kind: "probe", schema: z.object({ up: z.boolean() }), read: async () => new Map() });
    expect(compiler.compile(readingProbe("up")).ok).toBe(true);
    expect(compiler.compile(readingProbe("down")).ok).toBe(false);
  });

  it("knows a trigger registered after it was built", () => {
    const entities = entityRegistry();
    entities.defineEntity({ kind: "probe", schema: z.object({ up: z.boolean() }), read: async () => new Map() });
    const triggers = createTriggerRegistry();
    const compiler = createAutomationCompiler({ triggers, entities });
    expect(compiler.compile(readingProbe("up"))).toMatchObject({ ok: false, errors: [{ path: "triggers.0.event" }] });

    triggers.register(pingTrigger);
    expect(compiler.compile(readingProbe("up")).ok).toBe(true);
  });
});

describe("the entity registry's kinds", () => {
  it("lists every kind defined on it with its state schema, in the order defined", () => {
    const entities = entityRegistry();
    const probe = z.object({ up: z.boolean() });
    const lamp = z.object({ lit: z.boolean() });
    expect([...entities.kinds()]).toEqual([]);
    entities.defineEntity({ kind: "probe", schema: probe, read: async () => new Map() });
    entities.defineEntity({ kind: "lamp", schema: lamp, read: async () => new Map() });
    expect([...entities.kinds()]).toEqual([
      ["probe", probe],
      ["lamp", lamp],
    ]);
  });
});
