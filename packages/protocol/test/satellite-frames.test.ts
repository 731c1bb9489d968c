// The satellite frames an agent parses keep what it compares: an assignment's revision.
import { describe, expect, it } from "vitest";
import { coreFrameSchema, parseFrame } from "../src/index.ts";

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
