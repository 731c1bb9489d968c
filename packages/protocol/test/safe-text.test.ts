// The safe text rule refuses NUL characters and unpaired surrogates (PostgreSQL refuses both), naming why, and passes everything else.
import { describe, expect, it } from "vitest";
import { safeText, unsafeTextReason } from "../src/index.ts";

describe("the safe text rule", () => {
  it("accepts text with paired surrogates (emoji), line breaks and any other character", () => {
    for (const text of ["", "plain", "🚀 launch", "a\u{1F600}b", "tab\tnew\nline", "\u00e9\u4e2d\uFFFD"]) expect(unsafeTextReason(text), text).toBeUndefined();
  });

  it("refuses a NUL character anywhere", () => {
    for (const text of ["\u0000", "a\u0000", "\u0000b", "a\u0000b"]) expect(unsafeTextReason(text)).toContain("NUL");
  });

  it("refuses a high surrogate without its low one and a low surrogate without its high one", () => {
    for (const text of ["\ud800", "a\ud800b", "\udc00", "x\udfff", "\udc00\ud800", "🚀\ud83d", "\ud83d\ud83d\ude80"])
      expect(unsafeTextReason(text), JSON.stringify(text)).toContain("surrogate");
  });

  it("is a string schema that chains the usual checks and names the problem", () => {
    const name = safeText().trim().min(1).max(10);
    expect(name.parse("  ok ")).toBe("ok");
    expect(name.safeParse("a\u0000b").error?.issues[0]?.message).toContain("NUL");
    expect(name.safeParse("\ud800").error?.issues[0]?.message).toContain("surrogate");
    expect(name.safeParse("x".repeat(11)).success).toBe(false);
  });
});
