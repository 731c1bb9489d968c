// A result's detail stays within MAX_DETAIL_BYTES, giving up the least useful parts first,
// and an excerpt never cuts a character in half.
import { type AssertionVerdict, type CheckResultDetail, MAX_DETAIL_BYTES, MAX_EXCERPT_BYTES } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { boundedDetail, excerptOf } from "../src/bounded-detail.ts";

const size = (detail: CheckResultDetail) => new TextEncoder().encode(JSON.stringify(detail)).length;
const verdict = (index: number, pass: boolean): AssertionVerdict => ({
  path: `assertions[${index}]`,
  subject: "body",
  op: "eq",
  expected: "e".repeat(200),
  actual: "a".repeat(200),
  pass,
  onFail: "fail",
});

describe("boundedDetail", () => {
  it("leaves a small detail as it is", () => {
    const detail = { reason: "r", timings: { totalMs: 1 }, assertions: [verdict(0, true)] };
    expect(boundedDetail(detail)).toBe(detail);
  });

  it("drops passing verdicts first, then the excerpt, then failing verdicts from the end", () => {
    const many = Array.from({ length: 40 }, (_, index) => verdict(index, index % 2 === 0));
    const passingGone = boundedDetail({ reason: "r", timings: { totalMs: 1 }, assertions: many, excerpt: "x".repeat(MAX_EXCERPT_BYTES) });
    expect(passingGone.assertions!.every((entry) => !entry.pass)).toBe(true);
    expect(passingGone.assertions).toHaveLength(20);
    expect(passingGone.excerpt).toHaveLength(MAX_EXCERPT_BYTES);

    const failing = Array.from({ length: 200 }, (_, index) => verdict(index, false));
    const bounded = boundedDetail({
      reason: "r",
      error: { code: "c", message: "m" },
      timings: { totalMs: 1 },
      assertions: failing,
      excerpt: "x".repeat(MAX_EXCERPT_BYTES),
    });
    expect(size(bounded)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
    expect(bounded).not.toHaveProperty("excerpt");
    expect(bounded.assertions![0]!.path).toBe("assertions[0]");
    expect(bounded).toMatchObject({ reason: "r", error: { code: "c", message: "m" }, timings: { totalMs: 1 } });
  });
});

describe("excerptOf", () => {
  it("keeps at most MAX_EXCERPT_BYTES of UTF-8 without splitting a character", () => {
    const excerpt = excerptOf("€".repeat(5_000));
    expect(new TextEncoder().encode(excerpt).length).toBeLessThanOrEqual(MAX_EXCERPT_BYTES);
    expect(excerpt).toBe("€".repeat(Math.floor(MAX_EXCERPT_BYTES / 3)));
    expect(excerptOf("short")).toBe("short");
  });
});
