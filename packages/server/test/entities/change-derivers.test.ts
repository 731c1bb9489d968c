// Change derivers: event ids united per kind, a throwing deriver skipped, and at most one payload mapper per kind.
import { SYSTEM_ACTOR, type EntityChanged } from "@vantage/protocol";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createChangeDerivers } from "../../src/entities/change-derivers.ts";

const change: EntityChanged = {
  kind: "thing",
  id: "t1",
  prev: null,
  next: { state: "on" },
  delta: { state: "on" },
  changedFields: ["state"],
  actor: SYSTEM_ACTOR,
  occurredAt: "2026-11-27T00:00:00.000Z",
};

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "error" }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe("change derivers", () => {
  it("unites the event ids of every deriver of a kind, first seen first, without duplicates", () => {
    const derivers = createChangeDerivers(capturingLogger().logger);
    derivers.register({ kind: "thing", derive: () => ["thing.b", "thing.a"] });
    derivers.register({ kind: "thing", derive: () => ["thing.a", "thing.c"] });
    derivers.register({ kind: "other", derive: () => ["other.x"] });
    expect(derivers.deriveEvents(change)).toEqual(["thing.b", "thing.a", "thing.c"]);
  });

  it("logs and skips a deriver that throws, keeping the others' events", () => {
    const { logger, lines } = capturingLogger();
    const derivers = createChangeDerivers(logger);
    derivers.register({
      kind: "thing",
      derive: () => {
        throw new Error("boom");
      },
    });
    derivers.register({ kind: "thing", derive: () => ["thing.ok"] });
    expect(derivers.deriveEvents(change)).toEqual(["thing.ok"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: "change deriver threw; skipped", kind: "thing" });
  });

  it("allows one payload mapper per kind and rejects a second distinct one", () => {
    const derivers = createChangeDerivers(capturingLogger().logger);
    const toPayload = (c: EntityChanged) => ({ id: c.id });
    derivers.register({ kind: "thing", derive: () => [], toPayload });
    derivers.register({ kind: "thing", derive: () => [], toPayload }); // the same mapper again is fine
    expect(() => derivers.register({ kind: "thing", derive: () => [], toPayload: () => ({}) })).toThrow(/already has a payload mapper/);
    expect(derivers.toPayload(change)).toEqual({ id: "t1" });
  });

  it("gives a null payload for a kind without a mapper", () => {
    expect(createChangeDerivers(capturingLogger().logger).toPayload(change)).toBeNull();
  });

  it("unregistering a deriver stops its events", () => {
    const derivers = createChangeDerivers(capturingLogger().logger);
    const unregister = derivers.register({ kind: "thing", derive: () => ["thing.a"] });
    unregister();
    expect(derivers.deriveEvents(change)).toEqual([]);
  });

  it("names the kinds that may emit an event (what a replay reads), or null when a deriver does not say", () => {
    const derivers = createChangeDerivers(capturingLogger().logger);
    derivers.register({ kind: "thing", derive: () => ["thing.a"], emits: ["thing.a", "thing.b"] });
    derivers.register({ kind: "other", derive: () => ["other.x"], emits: ["other.x"] });
    expect(derivers.kindsEmitting(["thing.b"])).toEqual(["thing"]);
    expect(derivers.kindsEmitting(["nobody.emits"])).toEqual([]);
    derivers.register({ kind: "vague", derive: () => [] });
    expect(derivers.kindsEmitting(["thing.b"])).toBeNull();
  });
});
