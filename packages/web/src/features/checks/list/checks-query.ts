// The checks list's data: keyset pages of definitions (filters in the URL), each fetched with its
// rows' health and uptime bars (24 h of hourly segments, or 90 d of the day rollups) in the same request. The summaries are then kept per page (one
// query each, seeded from the page) and only the pages on screen observe theirs, so a page
// arriving or a health change costs O(page), never O(all loaded). The live feed refreshes only
// the summaries of the pages on screen and the detail queries (live.ts), never the list's pages.
// What the list keeps of each answer is cut to what its rows show (list-answers.ts); the answers
// that come while it scrolls are parsed off the page's thread (answer-parser.ts).
import { type QueryClient, useInfiniteQuery, useQueries, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, type BarRange, type CheckListFilters } from "../../../api/client.ts";
import { parseAnswer, startAnswerParser } from "./answer-parser.ts";
import {
  BARS_CATCH_UP,
  barsBehindStatus,
  type CheckRowItem,
  type PageSummaries,
  type RowPage,
  type RowSummary,
  slimPage,
  summariesByRow,
} from "./list-answers.ts";

export type { CheckRowItem, RowPage, RowSummary } from "./list-answers.ts";

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

/** The pages of checks; each page's summaries (over `range`) land in their own summaries query as it arrives. */
export function useCheckPages(filters: CheckListFilters, range: BarRange) {
  const queryClient = useQueryClient();
  return useInfiniteQuery({
    // The range is part of the key: switching it reads pages with the other bars (then cached both ways).
    queryKey: ["checks", "list", filters, range],
    queryFn: async ({ pageParam, signal }): Promise<RowPage> => {
      const query = { ...filters, limit: CHECK_PAGE, summaries: range, ...(pageParam ? { cursor: pageParam } : {}) };
      // The first page (a visit, a filter) is what the user waits for: parsed here at once (a
      // hop to a worker and back cost it a task or two on a busy host). Later pages come while
      // the list scrolls, and are parsed off this thread.
      const { summaries, ...rows } = pageParam
        ? await parseAnswer("page", await api.checks.listBody(query, signal))
        : slimPage(await api.checks.list(query, signal));
      if (!pageParam) startAnswerParser();
      if (summaries) queryClient.setQueryData(summariesKey(idsOf(rows), range), summariesByRow(summaries));
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
        queryFn: async ({ signal }: { signal: AbortSignal }) =>
          summariesByRow(await parseAnswer("summaries", await api.checks.summariesBody(ids, range, signal))),
        enabled: ids.length > 0,
        // A new answer is new rows: nothing to share with the last one (and a Map is not compared).
        structuralSharing: false,
        // Bars that do not show a status change yet are asked for again, a few times, while on screen.
        refetchInterval: (query: { state: { data?: PageSummaries } }) =>
          query.state.data && barsBehindStatus(query.state.data, Date.now()) ? BARS_CATCH_UP.everyMs : false,
      };
    }),
  });
  return (page, checkId) => results[page - first]?.data?.byId.get(checkId);
}

/** After a create, edit or delete: the list and every view of checks read again. */
export const invalidateChecks = (queryClient: QueryClient) =>
  Promise.all([queryClient.invalidateQueries({ queryKey: ["checks"] }), queryClient.invalidateQueries({ queryKey: ["check"] })]);
