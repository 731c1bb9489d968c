// Proves the error code list is a list clients can rely on: each code once, each a stable snake_case word.
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/index.ts";

describe("the error codes", () => {
  it("lists each code once", () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it("spells every code in snake_case", () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });
});
