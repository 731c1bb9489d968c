// Proves the one uuid rule: any case and any version bits are a uuid, read in lower case; anything else is not.
import { describe, expect, it } from "vitest";
import { canonicalUuid, isCanonicalUuid, isUuid, uuidSchema } from "../src/index.ts";

const ID = "6f0c2a4e-1b2c-4d3e-8f40-123456789abc";

describe("the uuid rule", () => {
  it("accepts a uuid in any case and reads it in lower case", () => {
    for (const spelling of [ID, ID.toUpperCase(), "6F0c2A4e-1b2C-4d3E-8f40-123456789ABC"]) {
      expect(isUuid(spelling)).toBe(true);
      expect(canonicalUuid(spelling)).toBe(ID);
    }
  });

  it("accepts what PostgreSQL's uuid type accepts whatever its version and variant bits", () => {
    for (const id of ["00000000-0000-0000-0000-000000000000", "12345678-1234-1234-1234-123456789012", "ffffffff-ffff-ffff-ffff-ffffffffffff"])
      expect(canonicalUuid(id)).toBe(id);
  });

  it("refuses anything that is not exactly 8-4-4-4-12 hex digits", () => {
    for (const value of ["", "not-a-uuid", `${ID} `, ` ${ID}`, `${ID}0`, ID.slice(1), ID.replaceAll("-", ""), `{${ID}}`, ID.replace("6", "g"), `${ID}\n`]) {
      expect(isUuid(value), JSON.stringify(value)).toBe(false);
      expect(canonicalUuid(value)).toBeUndefined();
    }
  });

  it("inside the core, only the lower-case spelling is canonical", () => {
    expect(isCanonicalUuid(ID)).toBe(true);
    expect(isCanonicalUuid(ID.toUpperCase())).toBe(false);
    expect(isCanonicalUuid("nope")).toBe(false);
  });

  it("is a schema that reads any case as lower case and says what is wrong", () => {
    expect(uuidSchema().parse(ID.toUpperCase())).toBe(ID);
    expect(uuidSchema().safeParse("nope").error?.issues[0]?.message).toBe("must be a uuid");
    expect(uuidSchema("must be the id of a row").safeParse("nope").error?.issues[0]?.message).toBe("must be the id of a row");
  });
});
