// The checks list's page index: a row's index finds its check and page across loaded pages of
// any size (the last one short, an empty one in between), without flattening them; and what the
// list keeps of each answer (a row's fields, its summaries packed).
import { describe, expect, it } from "vitest";
import type { CheckListItem } from "../src/api/client.ts";
import { indexPages } from "../src/features/checks/list/checks-query.ts";
import { BARS_CATCH_UP, barsBehindStatus, packSummaries, rowItem, summariesByRow } from "../src/features/checks/list/list-answers.ts";
import { sumCounts } from "../src/features/checks/list/uptime-bar-model.ts";
import { parseAnswer } from "../src/features/checks/list/answer-parser.ts";

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

describe("what the list keeps of an answer", () => {
  it("keeps a check's row fields only", () => {
    const check = {
      id: "c1",
      name: "api",
      type: "http",
      enabled: true,
      url: "https://example.com/health",
      method: "GET",
      intervalSeconds: 60,
      timeoutMs: 10_000,
      labels: { env: "prod" },
      assertions: [{ kind: "status", operator: "in", value: "2xx" }],
      runOn: { core: true },
      revision: 3,
      createdAt: "2030-01-01T00:00:00Z",
      updatedAt: "2030-01-01T00:00:00Z",
      status: "healthy",
    } as unknown as CheckListItem;
    expect(rowItem(check)).toEqual({
      id: "c1",
      name: "api",
      type: "http",
      enabled: true,
      target: "https://example.com/health",
      status: "healthy",
      staleAfterMs: 60_000 + 10_000 + 30_000,
    });
  });

  it("packs a page's bars and latencies, one array each, and keeps each row's health as the row shows it", () => {
    const counts = (up: number, down = 0) => ({ total: up + down, up, degraded: 0, down, error: 0 });
    const health = (lastResultAt: string) => ({
      status: "unhealthy" as const,
      since: "2030-01-01T00:00:00Z",
      reason: "down",
      flapping: false,
      maintenance: false,
      name: "n",
      type: "http",
      target: "t",
      labels: {},
      locations: {
        core: { status: "unhealthy" as const, since: "2030-01-01T00:00:00Z", lastResultAt },
        sat: { status: "healthy" as const, since: "2030-01-01T00:00:00Z", lastResultAt: "2030-01-01T00:00:10Z" },
      },
    });
    const packed = summariesByRow(
      packSummaries({
        range: "24h",
        from: "2030-01-01T00:00:00Z",
        to: "2030-01-01T03:00:00Z",
        segmentSeconds: 3600,
        summaries: [
          { checkId: "a", health: health("2030-01-01T00:00:20Z"), bars: [counts(1), counts(2), counts(3, 1)], p95Ms: [12.5, null, 40] },
          { checkId: "b", health: null, bars: [counts(0), counts(5), counts(6)], p95Ms: [null, null, 7] },
        ],
      }),
    );
    const a = packed.byId.get("a")!;
    const b = packed.byId.get("b")!;
    expect(a.fromMs).toBe(Date.parse("2030-01-01T00:00:00Z"));
    expect(a.segmentSeconds).toBe(3600);
    expect([...a.bars]).toEqual([1, 1, 0, 0, 0, 2, 2, 0, 0, 0, 4, 3, 0, 1, 0]);
    expect(sumCounts(b.bars)).toEqual({ total: 11, up: 11, degraded: 0, down: 0, error: 0 });
    expect([...a.p95Ms]).toEqual([12.5, Number.NaN, 40]);
    expect([...b.p95Ms]).toEqual([Number.NaN, Number.NaN, 7]);
    // Views of one buffer per page, not an array a row.
    expect(a.bars.buffer).toBe(b.bars.buffer);
    expect(a.p95Ms.buffer).toBe(b.p95Ms.buffer);
    expect(a.health).toEqual({
      status: "unhealthy",
      sinceMs: Date.parse("2030-01-01T00:00:00Z"),
      locations: { core: { status: "unhealthy" }, sat: { status: "healthy" } },
      lastResultAt: "2030-01-01T00:00:20Z",
    });
    expect(b.health).toBeNull();
  });
});

describe("the answer parser", () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).buffer as ArrayBuffer;

  it("reads a page's bytes into what the list keeps (here, without a worker, on this thread)", async () => {
    const page = await parseAnswer(
      "page",
      encode({
        checks: [{ id: "c1", name: "dns", type: "dns", enabled: false, queryName: "example.com", intervalSeconds: 30, timeoutMs: 5000 }],
        nextCursor: "n",
      }),
    );
    expect(page).toEqual({
      checks: [{ id: "c1", name: "dns", type: "dns", enabled: false, target: "example.com", staleAfterMs: 30_000 + 5_000 + 30_000 }],
      nextCursor: "n",
    });
  });

  it("says so when an answer is not JSON", async () => {
    await expect(parseAnswer("summaries", new TextEncoder().encode("<html>").buffer as ArrayBuffer)).rejects.toThrow(SyntaxError);
  });
});

describe("bars behind a status change", () => {
  const SINCE = Date.parse("2030-01-01T02:30:00Z");
  const counts = (up: number, down = 0) => ({ total: up + down, up, degraded: 0, down, error: 0 });
  const page = (status: "healthy" | "unhealthy", newest: ReturnType<typeof counts>) =>
    summariesByRow(
      packSummaries({
        range: "24h",
        from: "2030-01-01T00:00:00Z",
        to: "2030-01-01T03:00:00Z",
        segmentSeconds: 3600,
        summaries: [
          { checkId: "ok", health: null, bars: [counts(1), counts(1), counts(1)], p95Ms: [1, 1, 1] },
          {
            checkId: "x",
            health: {
              status,
              since: new Date(SINCE).toISOString(),
              reason: "",
              flapping: false,
              maintenance: false,
              name: "x",
              type: "http",
              target: "t",
              labels: {},
              locations: {},
            },
            bars: [counts(1), counts(1), newest],
            p95Ms: [1, 1, 1],
          },
        ],
      }),
    );

  it("holds while a recent status is not in the newest cell's counts yet", () => {
    expect(barsBehindStatus(page("unhealthy", counts(30)), SINCE + 2_000)).toBe(true);
    // The rollups caught up: the newest cell counts the failures.
    expect(barsBehindStatus(page("unhealthy", counts(30, 5)), SINCE + 5_000)).toBe(false);
    // A recovery does not wait for the failures to leave the newest cell.
    expect(barsBehindStatus(page("healthy", counts(30, 5)), SINCE + 2_000)).toBe(false);
  });

  it("stops asking a while after the change (a check unhealthy without results never fills its cell)", () => {
    expect(barsBehindStatus(page("unhealthy", counts(0)), SINCE + BARS_CATCH_UP.withinMs)).toBe(true);
    expect(barsBehindStatus(page("unhealthy", counts(0)), SINCE + BARS_CATCH_UP.withinMs + 1)).toBe(false);
  });
});
