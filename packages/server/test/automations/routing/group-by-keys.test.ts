// groupByKeys: the router's batch split into groups that share no key, each in batch order.
import { describe, expect, it } from "vitest";
import { groupByKeys } from "../../../src/automations/routing/automation-sink.ts";

describe("groupByKeys", () => {
  it("keeps items apart that share no key, in input order", () => {
    expect(groupByKeys(["a1", "b1", "a2", "c1", "b2"], (item) => [item[0]!])).toEqual([["a1", "a2"], ["b1", "b2"], ["c1"]]);
  });

  it("joins items that share a key through others, keeping their input order", () => {
    const items = [
      { name: "1", keys: ["entity:x", "scope:A"] },
      { name: "2", keys: ["entity:y", "scope:B"] },
      { name: "3", keys: ["entity:z", "scope:A", "scope:B"] },
      { name: "4", keys: ["entity:w"] },
      { name: "5", keys: ["entity:x"] },
    ];
    expect(groupByKeys(items, (item) => item.keys).map((group) => group.map((item) => item.name))).toEqual([["1", "2", "3", "5"], ["4"]]);
  });
});
