// The satellite frames an agent parses keep what it compares: an assignment's revision; a set
// too large for a frame is cut into parts that each fit one.
import { describe, expect, it } from "vitest";
import { assignmentParts, coreFrameSchema, parseFrame } from "../src/index.ts";

const assignment = { checkId: "c1", name: "c1", type: "http", intervalSeconds: 60, timeoutMs: 5_000, config: { url: "https://example.test" } };

describe("an assignments frame", () => {
  it("keeps each assignment's revision, so a check saved again reads as changed", () => {
    const parsed = parseFrame(coreFrameSchema, JSON.stringify({ type: "assignments", assignments: [{ ...assignment, revision: 7 }] }));
    expect(parsed).toEqual({ ok: true, frame: { type: "assignments", assignments: [{ ...assignment, revision: 7 }] } });
  });

  it("is valid without revisions, as an older core sends it", () => {
    expect(parseFrame(coreFrameSchema, JSON.stringify({ type: "assignments", assignments: [assignment] })).ok).toBe(true);
  });
});

describe("an assignment set in parts", () => {
  const padded = (index: number) => ({ ...assignment, checkId: `c${index}`, config: { url: "https://example.test", padding: "p".repeat(3_000) } });

  it("is one part, even empty, when it fits a frame", () => {
    expect(assignmentParts([])).toEqual([[]]);
    expect(assignmentParts([assignment])).toEqual([[assignment]]);
  });

  it("keeps every assignment in order, each part's frame within the bound", () => {
    const set = Array.from({ length: 10 }, (_, index) => padded(index));
    const parts = assignmentParts(set, 10_000);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.flat()).toEqual(set);
    for (const part of parts) expect(JSON.stringify({ type: "assignments", assignments: part, more: true }).length).toBeLessThanOrEqual(10_000);
  });

  it("sends an assignment larger than a frame alone in its part", () => {
    const parts = assignmentParts([assignment, padded(1), assignment], 2_000);
    expect(parts).toEqual([[assignment], [padded(1)], [assignment]]);
  });
});
