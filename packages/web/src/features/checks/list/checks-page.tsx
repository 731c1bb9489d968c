// Checks: the server-paged, virtualized list (only the rows on screen are in the DOM; the next
// page loads as the end comes into view), filtered by what the URL says. Each row: status,
// name, type, target, location dots, the uptime bar over 24 h or 90 d (a choice kept in the URL),
// the p95 latency sparkline and how long ago the last result came (marked when overdue). Health and bars arrive with each page and follow the live feed for the
// pages on screen (checks-query.ts).
import { type Range, useWindowVirtualizer } from "@tanstack/react-virtual";
import { Link, useNavigate, useRouter } from "@tanstack/react-router";
import { type MouseEvent, type PointerEvent, memo, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { BarRange } from "../../../api/client.ts";
import { ErrorMessage, Loading, PageHead, useNow } from "../../../ui/components.tsx";
import { formatAgo, formatExact } from "../../../ui/time.ts";
import { CHECK_TYPES } from "../check-types.ts";
import { isStale } from "../check-freshness.ts";
import { CheckStatusBadge, LocationDots, useLocationNames } from "../check-status.tsx";
import { useQuery } from "@tanstack/react-query";
import { satellitesQuery } from "../../satellites/satellites-page.tsx";
import {
  BAR_SPANS,
  barRangeOf,
  CHECK_PAGE,
  type CheckRowItem,
  type ChecksSearch,
  listFilters,
  type PagedChecks,
  type RowPage,
  type RowSummary,
  useCheckPages,
  usePagedChecks,
  useSummaryWindow,
} from "./checks-query.ts";
import { Sparkline } from "./sparkline.tsx";
import { UptimeBar } from "./uptime-bar.tsx";
import { useRevealed } from "./row-reveal.ts";
import { usePermissions } from "../../../permissions.ts";

const STATUSES = ["healthy", "degraded", "unhealthy", "unknown"] as const;

/** Narrow screens: rows become cards, the bar folds to fewer cells. */
function useNarrow(): boolean {
  const query = "(max-width: 760px)";
  const [narrow, setNarrow] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const media = window.matchMedia(query);
    const update = () => setNarrow(media.matches);
    media.addEventListener("change", update);
    return () => media.removeEventListener("change", update);
  }, []);
  return narrow;
}

export function ChecksPage({ search }: { search: ChecksSearch }) {
  const navigate = useNavigate();
  const { canEdit } = usePermissions();
  const setSearch = (patch: Partial<ChecksSearch>) =>
    void navigate({ to: "/checks", search: (previous: ChecksSearch) => clean({ ...previous, ...patch }), replace: true });
  // The core filters by status once its list items carry one.
  const [statusKnown, setStatusKnown] = useState(false);
  const range = barRangeOf(search);
  const pages = useCheckPages(listFilters(search, statusKnown), range);
  const loadedPages = pages.data?.pages;
  const loaded = useMemo(() => loadedPages ?? [], [loadedPages]);
  const paged = usePagedChecks(loaded);
  const count = paged.count;
  // Sticky (set while rendering, as React allows for a component's own state): a status filter that matches nothing must not hide itself.
  if (!statusKnown && loaded[0]?.checks.some((check) => check.status !== undefined)) setStatusKnown(true);
  const filtered = Object.entries(search).some(([key, value]) => key !== "bars" && value);

  return (
    <>
      <PageHead
        title="Checks"
        sub={
          pages.data
            ? `${count}${pages.hasNextPage ? "+" : ""} ${filtered ? "matching" : count === 1 ? "check" : "checks"}`
            : "What Vantage probes, and how it went."
        }
        actions={
          canEdit ? (
            <Link to="/checks/new" className="button primary">
              New check
            </Link>
          ) : null
        }
      />
      <Filters search={search} onChange={setSearch} withStatus={statusKnown} />
      {pages.isPending ? <Loading what="checks" /> : null}
      <ErrorMessage error={pages.error} title="Could not load the checks" />
      {pages.data && count === 0 ? (
        <div className="notice">{filtered ? "No check matches these filters." : "No checks yet. Create one to start probing."}</div>
      ) : null}
      {count > 0 ? (
        <CheckRows
          pages={loaded}
          paged={paged}
          range={range}
          hasMore={pages.hasNextPage}
          loadMore={() => void pages.fetchNextPage()}
          loading={pages.isFetchingNextPage}
        />
      ) : null}
    </>
  );
}

const clean = (search: ChecksSearch): ChecksSearch => Object.fromEntries(Object.entries(search).filter(([, value]) => value)) as ChecksSearch;

function Filters({ search, onChange, withStatus }: { search: ChecksSearch; onChange: (patch: Partial<ChecksSearch>) => void; withStatus: boolean }) {
  // Typing waits for a pause before it becomes the URL (and a request).
  const [q, setQ] = useState(search.q ?? "");
  const [label, setLabel] = useState(search.label ?? "");
  const satellites = useQuery(satellitesQuery);
  useEffect(() => {
    const timer = setTimeout(() => {
      if (q !== (search.q ?? "") || label !== (search.label ?? "")) onChange({ q: q.trim() || undefined, label: label.trim() || undefined });
    }, 250);
    return () => clearTimeout(timer);
  });
  return (
    <form className="filters" role="search" aria-label="Filter checks" onSubmit={(event) => event.preventDefault()}>
      <label className="field">
        Name starts with
        <input type="search" value={q} onChange={(event) => setQ(event.target.value)} placeholder="api-" />
      </label>
      <label className="field">
        Type
        <select value={search.type ?? ""} onChange={(event) => onChange({ type: event.target.value || undefined })}>
          <option value="">any</option>
          {CHECK_TYPES.map((type) => (
            <option key={type}>{type}</option>
          ))}
        </select>
      </label>
      <label className="field">
        Labels
        <input value={label} onChange={(event) => setLabel(event.target.value)} placeholder="env=prod, team=web" />
      </label>
      <label className="field">
        Enabled
        <select value={search.enabled ?? ""} onChange={(event) => onChange({ enabled: (event.target.value || undefined) as ChecksSearch["enabled"] })}>
          <option value="">all</option>
          <option value="true">enabled</option>
          <option value="false">disabled</option>
        </select>
      </label>
      <label className="field">
        Location
        <select value={search.location ?? ""} onChange={(event) => onChange({ location: event.target.value || undefined })}>
          <option value="">any</option>
          <option value="core">core</option>
          {(satellites.data?.satellites ?? []).map((satellite) => (
            <option key={satellite.id} value={satellite.id}>
              {satellite.name}
            </option>
          ))}
        </select>
      </label>
      {withStatus ? (
        <label className="field">
          Status
          <select value={search.status ?? ""} onChange={(event) => onChange({ status: event.target.value || undefined })}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </select>
        </label>
      ) : null}
      <fieldset className="field choice">
        <legend>Uptime bars</legend>
        {(Object.keys(BAR_SPANS) as BarRange[]).map((range) => (
          <label key={range}>
            <input
              type="radio"
              name="bars"
              value={range}
              checked={barRangeOf(search) === range}
              onChange={() => onChange({ bars: range === "24h" ? undefined : range })}
            />
            {BAR_SPANS[range].label}
          </label>
        ))}
      </fieldset>
    </form>
  );
}

function CheckRows({
  pages,
  paged,
  range,
  hasMore,
  loadMore,
  loading,
}: {
  pages: readonly RowPage[];
  paged: PagedChecks;
  range: BarRange;
  hasMore: boolean;
  loadMore: () => void;
  loading: boolean;
}) {
  const narrow = useNarrow();
  const listRef = useRef<HTMLDivElement>(null);
  const [offset, setOffset] = useState(0);
  useLayoutEffect(() => setOffset(listRef.current?.offsetTop ?? 0), []);
  const count = paged.count;
  const longestWindow = useRef(0);
  const rangeExtractor = useCallback((range: Range) => steadyWindow(range, longestWindow), []);
  // Not flushSync at each scroll event (the library's default): the list re-renders in its own
  // task, not inside the frame that scrolls, which then only styles, lays out and paints.
  const virtualizer = useWindowVirtualizer({
    count,
    estimateSize: () => (narrow ? 156 : 52),
    overscan: 4,
    scrollMargin: offset,
    useFlushSync: false,
    // "Scrolling" lasts 500 ms past the last scroll event (the library's default is 150): rows
    // that mount meanwhile start light (row-reveal.ts). On a busy host the deferred render of
    // the last rows a scroll brought can land later than 150 ms, and it then mounted a whole
    // screen of full rows in one frame.
    isScrollingResetDelay: 500,
    rangeExtractor,
  });
  const inView = virtualizer.getVirtualItems();
  // The rows follow the scroll at transition priority: React renders rows that came into view in
  // slices of a few milliseconds, yielding to the browser between them, so a fast scroll that
  // brings a screenful of new rows each frame makes no long task (it shows them a little later,
  // and a newer position replaces a render not yet done). The first render is not deferred.
  const items = useDeferredValue(inView);
  const slots = useSlotCount(items.length);
  const last = inView.at(-1)?.index ?? 0;
  // Within a page of the end: the next page, asked for before its rows are needed, so its answer
  // seldom lands in the frames that reveal the rows of a scroll that is catching up with it.
  useEffect(() => {
    if (hasMore && !loading && last >= count - CHECK_PAGE) loadMore();
  }, [hasMore, loading, last, count, loadMore]);
  const summaryOf = useSummaryWindow(pages, range, paged.at(items[0]?.index ?? 0)?.page ?? 0, paged.at(items.at(-1)?.index ?? 0)?.page ?? 0);
  const now = useNow();
  // Once for the list, not per row: a query observer per row was made and dropped for every row
  // scrolled past (bench/ui-checks-list).
  const nameOf = useLocationNames();
  const router = useRouter();
  const openCheck = useCallback(
    (checkId: string, intent: "open" | "preload") => {
      const to = { to: "/checks/$checkId", params: { checkId } } as const;
      // Preloaded on intent (hover, focus), as the router's links do (defaultPreload: "intent").
      if (intent === "preload") router.preloadRoute(to).catch(() => undefined);
      else void router.navigate(to);
    },
    [router],
  );

  return (
    <div className="check-table" role="table" aria-label="Checks" aria-rowcount={count + 1}>
      <div className="check-row head" role="row" aria-rowindex={1}>
        {["Status", "Name", "Type", "Target", "Locations", `Last ${BAR_SPANS[range].label}`, "p95", "Last result"].map((title) => (
          <span key={title} role="columnheader">
            {title}
          </span>
        ))}
      </div>
      <div ref={listRef} style={{ height: virtualizer.getTotalSize(), position: "relative" }} role="rowgroup">
        {items.map((item) => {
          // Deferred rows may name an index the list no longer has (a filter shrank it): skipped until they catch up.
          const row = paged.at(item.index);
          if (!row) return null;
          const { check, page } = row;
          const summary = summaryOf(page, check.id);
          return (
            <CheckRow
              // A wide row is a slot reused by the checks that scroll through it: the row's elements
              // (and React's) stay, and only what changed is written, where a key per check removed
              // and created every row on screen at each frame of a fling — the garbage collections
              // and memory releases left among a scroll's longest tasks (bench/ui-checks-list). Narrow
              // rows keep a key per check: each is measured as it mounts, under its own index.
              key={narrow ? check.id : item.index % slots}
              check={check}
              summary={summary}
              index={item.index}
              top={item.start - virtualizer.options.scrollMargin}
              // Desktop rows have one height: measuring each (a layout read per row) only where rows wrap.
              measure={narrow ? virtualizer.measureElement : undefined}
              narrow={narrow}
              range={range}
              now={now}
              nameOf={nameOf}
              openCheck={openCheck}
              scrolling={virtualizer.isScrolling}
            />
          );
        })}
      </div>
      {loading ? <Loading what="more checks" /> : null}
    </div>
  );
}

interface CheckRowProps {
  check: CheckRowItem;
  summary: RowSummary | undefined;
  index: number;
  top: number;
  measure: ((element: Element | null) => void) | undefined;
  narrow: boolean;
  range: BarRange;
  now: number;
  nameOf: (location: string) => string;
  openCheck: (checkId: string, intent: "open" | "preload") => void;
  /** Whether the list is scrolling: a row that mounts meanwhile shows its heavy cells when its turn comes (row-reveal.ts). */
  scrolling: boolean;
}

/**
 * React.memo's comparison, the props named once: the default one takes each props object's
 * Object.keys, two arrays per row on screen at every frame of a scroll (5 MB of a scroll's
 * allocations, sampled). A Record of every prop, so a prop added to the type must be added here.
 */
function sameProps<Props extends object>(props: Record<keyof Props, true>): (a: Props, b: Props) => boolean {
  const names = Object.keys(props) as Array<keyof Props>;
  return (a, b) => {
    for (const name of names) if (!Object.is(a[name], b[name])) return false;
    return true;
  };
}

const ROW_PROPS: Record<keyof CheckRowProps, true> = {
  check: true,
  summary: true,
  index: true,
  top: true,
  measure: true,
  narrow: true,
  range: true,
  now: true,
  nameOf: true,
  openCheck: true,
  scrolling: true,
};
const DETAIL_PROPS: Record<keyof RowDetails, true> = { check: true, summary: true, narrow: true, range: true, now: true, nameOf: true };
const sameDetails = sameProps(DETAIL_PROPS);

/** One row; memoized, so scrolling renders only the rows that come into view, not every row on screen. */
const CheckRow = memo(function CheckRow({ check, summary, index, top, measure, narrow, range, now, nameOf, openCheck, scrolling }: CheckRowProps) {
  // Narrow cards are measured one by one: a light card would be measured short, then grow.
  const revealed = useRevealed(check.id, !scrolling || narrow);
  // Until its turn (row-reveal.ts) the row shows its name alone; its other cells keep what the
  // row last showed, hidden and untouched, so a fling writes a row's name and nothing else.
  const shown = useHeldUnless(revealed, { check, summary, narrow, range, now, nameOf });
  return (
    <div
      className={`check-row${revealed ? "" : " light"}${check.enabled ? "" : " disabled"}`}
      role="row"
      aria-rowindex={index + 2}
      data-index={index}
      ref={measure}
      style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${top}px)` }}
    >
      {shown ? <StatusCell check={shown.check} summary={shown.summary} /> : null}
      <span role="cell" data-label="Name" className="name">
        <CheckLink id={check.id} name={check.name} open={openCheck} />
      </span>
      {shown ? <DetailCells {...shown} /> : null}
    </div>
  );
}, sameProps(ROW_PROPS));

/** What a row's cells other than the name show. */
interface RowDetails {
  check: CheckRowItem;
  summary: RowSummary | undefined;
  narrow: boolean;
  range: BarRange;
  now: number;
  nameOf: (location: string) => string;
}

/**
 * `value` while `show`; otherwise the value of the last render that showed (undefined if none):
 * memoized cells given it do not render at all meanwhile.
 */
function useHeldUnless(show: boolean, value: RowDetails): RowDetails | undefined {
  const [held, setHeld] = useState<RowDetails | undefined>(undefined);
  // Kept while rendering (as React allows for a component's own state), only when it changed.
  if (show && (held === undefined || !sameDetails(held, value))) setHeld(value);
  return show ? value : held;
}

// Not given the clock: the badge does not re-render each second.
const StatusCell = memo(
  function StatusCell({ check, summary }: Pick<RowDetails, "check" | "summary">) {
    const status = summary?.health?.status ?? check.status ?? "unknown";
    return (
      <span role="cell" data-label="Status">
        {summary || check.status ? <CheckStatusBadge status={status} /> : <span className="muted">…</span>}
        {check.enabled ? null : <span className="muted"> paused</span>}
      </span>
    );
  },
  sameProps({ check: true, summary: true }),
);

const DetailCells = memo(function DetailCells({ check, summary, narrow, range, now, nameOf }: RowDetails) {
  const span = BAR_SPANS[range];
  const health = summary?.health ?? null;
  const lastAt = health?.lastResultAt ?? null;
  const stale = isStale(lastAt, check, now);
  return (
    <>
      <span role="cell" data-label="Type">
        {check.type}
      </span>
      <span role="cell" data-label="Target" className="target" title={check.target}>
        {check.target}
      </span>
      <span role="cell" data-label="Locations">
        {health ? <LocationDots locations={health.locations} nameOf={nameOf} /> : <span className="muted">—</span>}
      </span>
      <span role="cell" data-label={`Last ${span.label}`}>
        {summary ? (
          <UptimeBar
            counts={summary.bars}
            fromMs={summary.fromMs}
            segmentSeconds={summary.segmentSeconds}
            span={span.label}
            maxCells={narrow ? span.cells.narrow : span.cells.wide}
            // The status now colours the newest cell ahead of its counts; not a paused or overdue
            // check's, whose status is as old as its last result.
            live={check.enabled && !stale ? health?.status : undefined}
          />
        ) : null}
      </span>
      <span role="cell" data-label="p95">
        {summary ? <Sparkline values={summary.p95Ms} /> : null}
      </span>
      <span role="cell" data-label="Last result" className={stale ? "stale" : undefined}>
        {summary ? <Ago at={lastAt} now={now} /> : null}
        {stale ? " · stale" : null}
      </span>
    </>
  );
}, sameDetails);

/**
 * The rows to render: those on screen and `overscan` either side, always as many as the most
 * there have been (the list's length permitting), the window reaching further back at the end.
 * At the end of the loaded pages the window was shorter, so the slots it did not need unmounted,
 * and the next page mounted them again, cells and all.
 */
function steadyWindow({ startIndex, endIndex, overscan, count }: Range, longest: { current: number }): number[] {
  longest.current = Math.max(longest.current, endIndex - startIndex + 1 + 2 * overscan);
  const size = Math.min(longest.current, count);
  const from = Math.max(0, Math.min(startIndex - overscan, count - size));
  return Array.from({ length: size }, (_, i) => from + i);
}

/** How many row slots the list reuses: the most rows it has had at once, so a window of rows never gives two rows one slot. */
function useSlotCount(rows: number): number {
  const [slots, setSlots] = useState(rows);
  if (rows > slots) setSlots(rows);
  return Math.max(slots, rows);
}

/** A relative time on the list's one clock: a timer per row would be thousands while scrolling. */
function Ago({ at, now }: { at: string | null; now: number }) {
  return (
    <time dateTime={at ?? undefined} onPointerOver={exactTimeOnHover}>
      {formatAgo(at, now)}
    </time>
  );
}

/** The exact time as a tooltip, written when the pointer comes over it (as the bar's cell labels): formatting it for every row rendered while scrolling showed in the profile. */
function exactTimeOnHover(event: PointerEvent<HTMLTimeElement>) {
  const time = event.currentTarget;
  if (!time.title) time.title = formatExact(time.dateTime || null);
}

/**
 * The row's link to its check: a plain anchor that navigates in the app on a plain click (a
 * modified or middle click opens a tab, as any link). Not the router's Link: each one subscribes
 * to the router's state and builds its location as it mounts, and while scrolling rows mount by
 * the dozen per frame (bench/ui-checks-list).
 */
function CheckLink({ id, name, open }: { id: string; name: string; open: (checkId: string, intent: "open" | "preload") => void }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    open(id, "open");
  };
  const preload = () => open(id, "preload");
  return (
    <a href={`/checks/${encodeURIComponent(id)}`} onClick={onClick} onPointerEnter={preload} onFocus={preload}>
      {name}
    </a>
  );
}
