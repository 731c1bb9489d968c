// The checks list's data: keyset pages of definitions (filters in the URL), and for each page
// its rows' health and 24 h bars in one summaries request. The live feed refreshes only the
// summaries and detail queries on a check-health change (live.ts), never every loaded page.
import { type QueryClient, useInfiniteQuery, useQueries } from "@tanstack/react-query";
import { api, type CheckListFilters, type CheckListItem, type CheckSummaries } from "../../../api/client.ts";

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
}

export const CHECK_PAGE = 100;

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

export function useCheckPages(filters: CheckListFilters) {
  return useInfiniteQuery({
    queryKey: ["checks", "list", filters],
    queryFn: ({ pageParam, signal }) => api.checks.list({ ...filters, limit: CHECK_PAGE, ...(pageParam ? { cursor: pageParam } : {}) }, signal),
    initialPageParam: "",
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}

export const summariesKey = (ids: readonly string[]) => ["checks", "summaries", "24h", ids.join(",")] as const;

/** The summaries of every loaded page, by check id (rebuilt only when a page's summaries change). */
export function useSummaries(pages: ReadonlyArray<{ checks: CheckListItem[] }>) {
  return useQueries({
    queries: pages.map((page) => {
      const ids = page.checks.map((check) => check.id);
      return {
        queryKey: summariesKey(ids),
        queryFn: ({ signal }: { signal: AbortSignal }) => api.checks.summaries(ids, "24h", signal),
        enabled: ids.length > 0,
      };
    }),
    combine: combineSummaries,
  });
}

// A stable function: TanStack Query re-runs it only when a result changed.
function combineSummaries(results: ReadonlyArray<{ data?: CheckSummaries }>) {
  const byId = new Map<string, { summary: CheckSummaries["summaries"][number]; from: string; segmentSeconds: number }>();
  for (const result of results)
    for (const summary of result.data?.summaries ?? [])
      byId.set(summary.checkId, { summary, from: result.data!.from, segmentSeconds: result.data!.segmentSeconds });
  return byId;
}

/** After a create, edit or delete: the list and every view of checks read again. */
export const invalidateChecks = (queryClient: QueryClient) =>
  Promise.all([queryClient.invalidateQueries({ queryKey: ["checks"] }), queryClient.invalidateQueries({ queryKey: ["check"] })]);
