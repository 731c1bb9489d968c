// Time-ordered ids: valid lower-case uuids (version 7) that sort, as text and as PostgreSQL's
// uuid, in the order of the milliseconds they were made in.
import { isCanonicalUuid } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { timeOrderedUuid } from "../../src/storage/index.ts";

describe("timeOrderedUuid", () => {
  it("makes a canonical uuid of version 7 and variant 10 that carries its millisecond", () => {
    const at = Date.UTC(2026, 11, 3, 23, 15);
    const id = timeOrderedUuid(at);
    expect(isCanonicalUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(at);
  });

  it("sorts ids of later milliseconds after earlier ones, whatever their random bits", () => {
    const start = Date.UTC(2026, 11, 3);
    const ids = Array.from({ length: 200 }, (_, i) => timeOrderedUuid(start + i));
    expect([...ids].sort()).toEqual(ids);
  });

  it("keeps the ids made now in the order they were made, within a millisecond too", () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedUuid());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => isCanonicalUuid(id) && id[14] === "7")).toBe(true);
    const made = Number.parseInt(ids.at(-1)!.replaceAll("-", "").slice(0, 12), 16);
    expect(Math.abs(made - Date.now())).toBeLessThan(60_000);
  });

  it("does not repeat within one millisecond", () => {
    const ids = Array.from({ length: 10_000 }, () => timeOrderedUuid(0));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
