// The checks list's page index: a row's index finds its check and page across loaded pages of
// any size (the last one short, an empty one in between), without flattening them.
import { describe, expect, it } from "vitest";
import type { CheckListItem } from "../src/api/client.ts";
import { indexPages } from "../src/features/checks/list/checks-query.ts";

const page = (from: number, size: number) => ({
  checks: Array.from({ length: size }, (_, i) => ({ id: `c${from + i}`, name: `check-${from + i}` }) as unknown as CheckListItem),
});

describe("indexPages", () => {
  it("finds each row's check and page, at the pages' edges too", () => {
    const paged = indexPages([page(0, 100), page(100, 100), page(200, 37)]);
    expect(paged.count).toBe(237);
    expect(paged.at(0)).toMatchObject({ page: 0, check: { id: "c0" } });
    expect(paged.at(99)).toMatchObject({ page: 0, check: { id: "c99" } });
    expect(paged.at(100)).toMatchObject({ page: 1, check: { id: "c100" } });
    expect(paged.at(236)).toMatchObject({ page: 2, check: { id: "c236" } });
  });

  it("answers nothing past the end or before any page, and skips an empty page", () => {
    expect(indexPages([]).count).toBe(0);
    expect(indexPages([]).at(0)).toBeUndefined();
    const paged = indexPages([page(0, 2), page(2, 0), page(2, 3)]);
    expect(paged.count).toBe(5);
    expect(paged.at(2)).toMatchObject({ page: 2, check: { id: "c2" } });
    expect(paged.at(5)).toBeUndefined();
  });
});
