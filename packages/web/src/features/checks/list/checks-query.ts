// The checks list's data: keyset pages of definitions (filters in the URL), each fetched with its
// rows' health and uptime bars (24 h of hourly segments, or 90 d of the day rollups) in the same request. The summaries are then kept per page (one
// query each, seeded from the page) and only the pages on screen observe theirs, so a page
// arriving or a health change costs O(page), never O(all loaded). The live feed refreshes only
// the summaries of the pages on screen and the detail queries (live.ts), never the list's pages.
//
// What the list keeps is cut to what its rows show as each answer arrives: a row's fields of the
// check (not its whole definition), a health's status, dots and newest result, and the bars and
// latencies packed in typed arrays, one per page. Scrolled to its end the list holds 10,000
// checks; as parsed, they and their summaries were about 40 objects a check that every major
// garbage collection marked again while scrolling (docs/benchmarks/2026-12-03-checks-list-long-tasks.md).
import { type QueryClient, useInfiniteQuery, useQueries, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import {
  api,
  type BarRange,
  type CheckHealthStatus,
  type CheckListFilters,
  type CheckListItem,
  type CheckSummaries,
  type LocationHealthStatus,
} from "../../../api/client.ts";
import { lastResultAt, staleAfterMs } from "../check-freshness.ts";
import { targetOf } from "../check-types.ts";
import { packCounts, type PackedCounts } from "./uptime-bar-model.ts";

/** What /checks keeps in its URL. */
export interface ChecksSearch {
  /** Name prefix. */
  q?: string;
  type?: string;
  /** `env=prod, team=web`: every label must hold. */
  label?: string;
  enabled?: "true" | "false";
  /** Only once the core's list carries `status` (then it filters by it too). */
  status?: string;
  /** "core" or a satellite's id. */
  location?: string;
  /** The uptime bars' span: 24 h unless 90 d is asked for. */
  bars?: BarRange;
}

/** How each span's bar reads and how many cells it folds to, on a wide row and on a phone's card. */
export const BAR_SPANS: Record<BarRange, { label: string; cells: { wide: number; narrow: number } }> = {
  "24h": { label: "24 h", cells: { wide: 24, narrow: 12 } },
  "90d": { label: "90 d", cells: { wide: 30, narrow: 15 } },
};

export const barRangeOf = (search: ChecksSearch): BarRange => search.bars ?? "24h";

/**
 * Checks a page. 50, not 100: a page of 100 with its summaries is about 240 KB of JSON, read and
 * parsed in one task of the renderer (5–9 ms of CPU, once 31 while scrolling: the largest task of
 * a traced scroll, docs/benchmarks/2026-12-03-checks-list-scroll.md). Half a page is half that task; a screen is still 15 rows.
 */
export const CHECK_PAGE = 50;

export function listFilters(search: ChecksSearch, withStatus: boolean): CheckListFilters & { status?: string } {
  const labels = (search.label ?? "")
    .split(",")
    .map((label) => label.trim())
    .filter((label) => label !== "");
  return {
    ...(search.q ? { namePrefix: search.q } : {}),
    ...(search.type ? { type: search.type } : {}),
    ...(labels.length > 0 ? { label: labels } : {}),
    ...(search.enabled ? { enabled: search.enabled } : {}),
    ...(search.location ? { location: search.location } : {}),
    ...(withStatus && search.status ? { status: search.status } : {}),
  };
}

export const summariesKey = (ids: readonly string[], range: BarRange) => ["checks", "summaries", range, ids.join(",")] as const;

/** What a list row shows of a check: the rest of its definition is dropped as its page arrives. */
export interface CheckRowItem {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  /** What it probes (check-types.ts `targetOf`). */
  target: string;
  /** Once the core's list carries it (until then, from the summaries). */
  status?: CheckHealthStatus;
  /** How old its newest result may be before it reads stale (check-freshness.ts). */
  staleAfterMs: number;
}

/** A page of the list as kept. */
export interface RowPage {
  checks: CheckRowItem[];
  nextCursor: string | null;
}

export function rowItem(check: CheckListItem): CheckRowItem {
  return {
    id: check.id,
    name: check.name,
    type: check.type,
    enabled: check.enabled,
    target: targetOf(check),
    ...(check.status === undefined ? {} : { status: check.status }),
    staleAfterMs: staleAfterMs(check),
  };
}

/** What a row shows of a check's health. */
export interface RowHealth {
  status: CheckHealthStatus;
  /** Each location's status: the row's dots. */
  locations: Readonly<Record<string, { status: LocationHealthStatus }>>;
  /** The newest result of any location, ISO; null before the first. */
  lastResultAt: string | null;
}

/** A row's health, uptime bar and sparkline. */
export interface RowSummary {
  health: RowHealth | null;
  /** The bar's segments, oldest first: a view of its page's one array (uptime-bar-model.ts). */
  bars: PackedCounts;
  /** Each segment's p95 latency in ms, NaN where it has no result: a view of its page's one array. */
  p95Ms: Float64Array;
  /** Start of the first segment, epoch ms. */
  fromMs: number;
  segmentSeconds: number;
}

/** A page's summaries as kept, by check id. */
export interface PageSummaries {
  byId: ReadonlyMap<string, RowSummary>;
}

/** An answer of /checks/summaries cut to what the rows show, its bars and latencies packed. */
export function packSummaries(answer: CheckSummaries): PageSummaries {
  const segments = answer.summaries[0]?.bars.length ?? 0;
  const counts = new Uint32Array(answer.summaries.length * segments * 5);
  const latencies = new Float64Array(answer.summaries.length * segments);
  const fromMs = Date.parse(answer.from);
  const byId = new Map<string, RowSummary>();
  answer.summaries.forEach((summary, index) => {
    // One length for every row of an answer (its range's); a shorter one keeps its zeros and NaNs at the end.
    const start = index * segments;
    packCounts(summary.bars.slice(0, segments), counts, start);
    const p95Ms = latencies.subarray(start, start + segments);
    p95Ms.fill(Number.NaN);
    summary.p95Ms.slice(0, segments).forEach((ms, segment) => {
      if (ms !== null) p95Ms[segment] = ms;
    });
    const health = summary.health;
    byId.set(summary.checkId, {
      health: health && {
        status: health.status,
        locations: Object.fromEntries(Object.entries(health.locations).map(([location, state]) => [location, { status: state.status }])),
        lastResultAt: lastResultAt(health),
      },
      bars: counts.subarray(start * 5, (start + segments) * 5),
      p95Ms,
      fromMs,
      segmentSeconds: answer.segmentSeconds,
    });
  });
  return { byId };
}

/** The pages of checks; each page's summaries (over `range`) land in their own summaries query as it arrives. */
export function useCheckPages(filters: CheckListFilters, range: BarRange) {
  const queryClient = useQueryClient();
  return useInfiniteQuery({
    // The range is part of the key: switching it reads pages with the other bars (then cached both ways).
    queryKey: ["checks", "list", filters, range],
    queryFn: async ({ pageParam, signal }): Promise<RowPage> => {
      const page = await api.checks.list({ ...filters, limit: CHECK_PAGE, summaries: range, ...(pageParam ? { cursor: pageParam } : {}) }, signal);
      const rows: RowPage = { checks: page.checks.map(rowItem), nextCursor: page.nextCursor };
      if (page.summaries) queryClient.setQueryData(summariesKey(idsOf(rows), range), packSummaries(page.summaries));
      return rows;
    },
    initialPageParam: "",
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    // Loaded pages never change in place (a refetch answers new objects): comparing every loaded
    // check deeply each time a page arrives would cost O(all loaded).
    structuralSharing: false,
  });
}

// A page's ids, computed once per page object (the summaries key is made of them).
const pageIds = new WeakMap<RowPage, string[]>();
function idsOf(page: RowPage): string[] {
  let ids = pageIds.get(page);
  if (!ids) pageIds.set(page, (ids = page.checks.map((check) => check.id)));
  return ids;
}

/** Where each loaded page starts in the whole list: a row's index finds its page without flattening the pages. */
export interface PagedChecks<Check = CheckRowItem> {
  count: number;
  at(index: number): { check: Check; page: number } | undefined;
}

export const usePagedChecks = (pages: readonly RowPage[]): PagedChecks => useMemo(() => indexPages(pages), [pages]);

/** O(pages) once per page arriving: no flattened copy of every loaded check. */
export function indexPages<Check>(pages: ReadonlyArray<{ checks: readonly Check[] }>): PagedChecks<Check> {
  const starts: number[] = [];
  let count = 0;
  for (const page of pages) {
    starts.push(count);
    count += page.checks.length;
  }
  const at = (index: number) => {
    // The last page starting at or before the index (pages are few: a binary search over their starts).
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= index) low = middle;
      else high = middle - 1;
    }
    const check = pages[low]?.checks[index - (starts[low] ?? 0)];
    return check ? { check, page: low } : undefined;
  };
  return { count, at };
}

/**
 * The summaries of the pages from `first` to `last` (those with a row on screen): only they are
 * observed, so only they refetch when the live feed invalidates summaries; a page scrolled
 * back into view refetches if its summaries went stale meanwhile.
 */
export function useSummaryWindow(
  pages: readonly RowPage[],
  range: BarRange,
  first: number,
  last: number,
): (page: number, checkId: string) => RowSummary | undefined {
  const shown = pages.slice(first, last + 1);
  // No `combine` (an inline one re-runs every render): rows read their page's answer, indexed
  // once per answer object, so their props stay the same objects and memo holds.
  const results = useQueries({
    queries: shown.map((page) => {
      const ids = idsOf(page);
      return {
        queryKey: summariesKey(ids, range),
        queryFn: async ({ signal }: { signal: AbortSignal }) => packSummaries(await api.checks.summaries(ids, range, signal)),
        enabled: ids.length > 0,
        // A new answer is new rows: nothing to share with the last one (and a Map is not compared).
        structuralSharing: false,
      };
    }),
  });
  return (page, checkId) => results[page - first]?.data?.byId.get(checkId);
}

/** After a create, edit or delete: the list and every view of checks read again. */
export const invalidateChecks = (queryClient: QueryClient) =>
  Promise.all([queryClient.invalidateQueries({ queryKey: ["checks"] }), queryClient.invalidateQueries({ queryKey: ["check"] })]);
