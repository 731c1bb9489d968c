// Our JSON path subset reads values and nothing else: names, indexes and quoted keys; a path
// that leads nowhere, or into an object's prototype, reads absent.
import { JSON_PATH_PATTERN } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { parseJsonPath, readJsonPath } from "../../src/assertions/json-path.ts";

const document = { data: { items: [{ id: 7, "content-type": "json" }, { id: 8 }], "a.b": { 'say "hi"': true }, empty: null } };

const read = (path: string) => {
  expect(JSON_PATH_PATTERN.test(path), `${path} is a path the schema accepts`).toBe(true);
  return readJsonPath(document, parseJsonPath(path)!);
};

describe("JSON paths", () => {
  it("reads the document, names, indexes and quoted keys", () => {
    expect(read("$")).toEqual(document);
    expect(read("$.data.items[0].id")).toBe(7);
    expect(read('$.data.items[0]["content-type"]')).toBe("json");
    expect(read('$.data["a.b"]["say \\"hi\\""]')).toBe(true);
  });

  it("reads a JSON null as a value and a missing step as absent", () => {
    expect(read("$.data.empty")).toBeNull();
    expect(read("$.data.missing")).toBeUndefined();
    expect(read("$.data.items[5]")).toBeUndefined();
    expect(read("$.data.items.id")).toBeUndefined();
    expect(read("$.data[0]")).toBeUndefined();
  });

  it("never reads what the parsed object inherits", () => {
    expect(read("$.constructor")).toBeUndefined();
    expect(read('$["__proto__"]')).toBeUndefined();
    expect(read("$.data.items.length")).toBeUndefined();
  });

  it("refuses what is not a path", () => {
    expect(parseJsonPath("data.items")).toBeUndefined();
    expect(parseJsonPath("$.items[?(@.id)]")).toBeUndefined();
    expect(parseJsonPath("$..id")).toBeUndefined();
  });
});
