// The satellite selector: which satellites `runOn.satellites` picks, and that every satellite it
// picks is found through the index keys (a selected satellite always shares an anchor with it).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../../src/checks/assignments/key-index.ts";
import { compileSelector, selectableSatellite, selects } from "../../../src/checks/assignments/satellite-selector.ts";

const ID = "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10";
const OTHER = "0b7c1a52-93d4-4c47-a1a4-2f6c8e5d9b01";
const satellite = (region: string, tags: string[] = [], id = OTHER) => selectableSatellite({ id, region, tags }, ["http"]);

describe("a satellite selector", () => {
  it("selects listed ids whatever their case, and nothing else when it lists only ids", () => {
    const selector = compileSelector({ ids: [ID.toUpperCase()] });
    expect(selects(selector, satellite("eu", [], ID))).toBe(true);
    expect(selects(selector, satellite("eu", ["a"]))).toBe(false);
  });

  it("selects by region: any of the regions", () => {
    const selector = compileSelector({ regions: ["eu", "us"] });
    expect(selects(selector, satellite("us"))).toBe(true);
    expect(selects(selector, satellite("ap"))).toBe(false);
    expect(selects(selector, satellite("EU"))).toBe(false); // regions are compared as written
  });

  it("selects by tags: every one of them", () => {
    const selector = compileSelector({ tags: ["gpu", "arm"] });
    expect(selects(selector, satellite("eu", ["arm", "gpu", "x"]))).toBe(true);
    expect(selects(selector, satellite("eu", ["gpu"]))).toBe(false);
  });

  it("selects by region and tags together, or by id regardless of both", () => {
    const selector = compileSelector({ ids: [ID], regions: ["eu"], tags: ["gpu"] });
    expect(selects(selector, satellite("eu", ["gpu"]))).toBe(true);
    expect(selects(selector, satellite("eu"))).toBe(false);
    expect(selects(selector, satellite("us", ["gpu"]))).toBe(false);
    expect(selects(selector, satellite("ap", [], ID))).toBe(true);
  });

  it("is always found through the keys: a selected satellite shares an anchor with the selector", () => {
    const word = fc.constantFrom("eu", "us", "ap", "gpu", "arm", "x");
    const id = fc.constantFrom(ID, OTHER, ID.toUpperCase());
    const selectorArb = fc
      .record({
        ids: fc.option(fc.array(id, { minLength: 1, maxLength: 2 }), { nil: undefined }),
        regions: fc.option(fc.array(word, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        tags: fc.option(fc.array(word, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      })
      .filter((selector) => selector.ids !== undefined || selector.regions !== undefined || selector.tags !== undefined);
    const satelliteArb = fc.record({ id, region: word, tags: fc.uniqueArray(word, { maxLength: 4 }) });
    fc.assert(
      fc.property(selectorArb, satelliteArb, (raw, profile) => {
        const selector = compileSelector(raw);
        const candidate = selectableSatellite(profile, ["http"]);
        const index = new KeyIndex<string>();
        index.set("check", selector.anchors);
        const found = index.collect(candidate.keys, new Set()).has("check");
        return !selects(selector, candidate) || found;
      }),
      { seed: 11, numRuns: 2_000 },
    );
  });
});

describe("the key index", () => {
  it("finds items by any of their keys and forgets the keys an item no longer has", () => {
    const index = new KeyIndex<string>();
    index.set("a", ["region:eu", "tag:x"]);
    index.set("b", ["region:us"]);
    expect([...index.collect(["tag:x", "region:us"], new Set())].sort()).toEqual(["a", "b"]);
    index.set("a", ["region:us"]);
    expect([...index.collect(["tag:x"], new Set())]).toEqual([]);
    index.delete("b");
    expect([...index.collect(["region:us"], new Set())]).toEqual(["a"]);
    expect(index.size).toBe(1);
  });
});
