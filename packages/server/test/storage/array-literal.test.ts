// Array literals built for bulk statements read back, through PostgreSQL itself, as exactly the
// elements they were built from: no text can split, merge, unquote or turn into NULL.
import fc from "fast-check";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.ts";
import { createPool, numberArrayLiteral, textArrayLiteral } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";

let pool: pg.Pool;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { applicationName: "array-literal", max: 2 });
});

afterAll(async () => {
  await pool?.end();
});

const readBack = async <T>(literal: string, type: string) => (await pool.query<{ a: T[] }>(`SELECT $1::${type}[] AS a`, [literal])).rows[0]!.a;

describe("textArrayLiteral", () => {
  it("reads back every element as built, whatever its characters", async () => {
    const tricky = [
      "core",
      "NULL",
      "null",
      "Null",
      "",
      " ",
      "a,b",
      "{x}",
      'say "hi"',
      "back\\slash",
      "ends\\",
      "tab\there",
      "é",
      "9b2c7e52-1f0e-4f51-9d43-0d4d8d1f0a11",
    ];
    expect(await readBack<string | null>(textArrayLiteral([...tricky, null, undefined]), "text")).toEqual([...tricky, null, null]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.option(
            fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !s.includes("\0")),
            { nil: null },
          ),
          { maxLength: 20 },
        ),
        async (values) => {
          expect(await readBack<string | null>(textArrayLiteral(values), "text")).toEqual(values);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("leaves uuids bare and casts them as uuid[]", async () => {
    const ids = ["9B2C7E52-1F0E-4F51-9D43-0D4D8D1F0A11", "00000000-0000-4000-8000-000000000001"];
    expect(textArrayLiteral(ids)).toBe(`{${ids.join(",")}}`);
    expect(await readBack<string>(textArrayLiteral(ids), "uuid")).toEqual(ids.map((id) => id.toLowerCase()));
  });
});

describe("numberArrayLiteral", () => {
  it("reads back integers, fractions and nulls, and refuses what is not a finite number", async () => {
    expect(await readBack<number | null>(numberArrayLiteral([0, -3, 1_764_756_000_123, 0.5, null, undefined]), "float8")).toEqual([
      0,
      -3,
      1_764_756_000_123,
      0.5,
      null,
      null,
    ]);
    expect(() => numberArrayLiteral([Number.NaN])).toThrow(RangeError);
    expect(() => numberArrayLiteral([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});
