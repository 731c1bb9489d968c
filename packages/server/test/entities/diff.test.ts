// The canonical diff of entity states: key order, undefined and null do not count as changes; creates and tombstones change every field.
import { describe, expect, it } from "vitest";
import { canonicalJson, diffStates } from "../../src/entities/diff.ts";

describe("canonicalJson", () => {
  it("is the same text whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe(canonicalJson({ a: { c: [3, { e: 0, f: 1 }], d: 2 }, b: 1 }));
  });

  it("treats undefined, absent and null alike", () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: 1, b: null })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ nested: { x: null } })).toBe(canonicalJson({ nested: {} }));
  });

  it("writes dates as ISO strings", () => {
    expect(canonicalJson({ at: new Date("2026-01-02T03:04:05.000Z") })).toBe('{"at":"2026-01-02T03:04:05.000Z"}');
  });
});

describe("diffStates", () => {
  it("reports the sorted top-level fields that differ, with their new values", () => {
    const prev = { status: "online", name: "eu-1", lastSeenAt: "a", meta: { z: 1, y: 2 } };
    const next = { status: "offline", name: "eu-1", lastSeenAt: null, meta: { y: 2, z: 1 } };
    expect(diffStates(prev, next)).toEqual({ changedFields: ["lastSeenAt", "status"], delta: { lastSeenAt: null, status: "offline" } });
  });

  it("records nothing for states that differ only in key order or null versus absent", () => {
    expect(diffStates({ a: 1, b: null, c: { x: 1, y: 2 } }, { c: { y: 2, x: 1 }, a: 1 })).toEqual({ changedFields: [], delta: {} });
  });

  it("treats a create as every field changing from absent", () => {
    expect(diffStates(null, { b: 2, a: 1 })).toEqual({ changedFields: ["a", "b"], delta: { a: 1, b: 2 } });
  });

  it("treats a tombstone as every field changing to null", () => {
    expect(diffStates({ a: 1, b: "x" }, null)).toEqual({ changedFields: ["a", "b"], delta: { a: null, b: null } });
  });

  it("compares arrays by position and content", () => {
    expect(diffStates({ tags: ["a", "b"] }, { tags: ["b", "a"] }).changedFields).toEqual(["tags"]);
  });

  it("compares nested values whatever their key order, and reports a field that turns null as removed", () => {
    expect(diffStates({ meta: { a: 1, b: [1, { c: 2 }] }, gone: 3 }, { meta: { b: [1, { c: 2 }], a: 1 }, gone: null })).toEqual({
      changedFields: ["gone"],
      delta: { gone: null },
    });
  });

  it("reads only a state's own fields, whatever their names", () => {
    expect(diffStates({ constructor: "x", toString: 1 }, {})).toEqual({
      changedFields: ["constructor", "toString"],
      delta: { constructor: null, toString: null },
    });
    expect(diffStates({}, { valueOf: 2 })).toEqual({ changedFields: ["valueOf"], delta: { valueOf: 2 } });
  });

  it("counts values whose JSON is the same as equal (a number JSON cannot write is null)", () => {
    expect(diffStates({ ratio: Number.NaN }, { ratio: null }).changedFields).toEqual([]);
    expect(diffStates({}, { ratio: Number.POSITIVE_INFINITY }).changedFields).toEqual([]);
    expect(diffStates({ count: 1 }, { count: 1 }).changedFields).toEqual([]);
  });
});
