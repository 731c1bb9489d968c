// The web UI's checks list at 10,000 checks, in Debian's Chromium (playwright-core): a real core
// on a scratch database serving the built UI, its checks written straight into the tables with
// health and rollups (hourly for the last days, daily for 30). Measures, over several visits:
// navigation → the list's first row rendered and → its uptime bars and sparklines shown; typing
// a name prefix → the filtered rows (with and without the filter's 250 ms typing pause); and
// scrolling the whole list to its end (every page fetched as it comes into view), `--scrolls`
// times: frame times and long tasks, by wall time (the page's PerformanceObserver) and by CPU
// time (a trace of the renderer's main thread, which a loaded host cannot inflate). Build the UI first (`npm run build`); the checks run nowhere (no satellite is
// in their region), so nothing else loads the core meanwhile. `--baseline-dist DIR` serves
// another build from a second core on the same database, and the two builds take turns.
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { checkDefinitionSchema } from "@vantage/protocol";
import { type BrowserContext, type CDPSession, chromium, type Page } from "playwright-core";
import { createPartitionCatalog, DAY_MS } from "../packages/server/src/checks/results/partitions.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { startCore } from "../packages/server/src/main.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, table } from "./_database.ts";
import { gcPauses, type RendererTask, rendererTasks, type TraceEvent } from "./_renderer-tasks.ts";

const { values } = parseArgs({
  options: {
    checks: { type: "string", default: "10000" },
    "hour-days": { type: "string", default: "2" },
    "day-days": { type: "string", default: "30" },
    visits: { type: "string", default: "3" },
    // Each a fresh navigation scrolled to the end, traced: how many of them had no long task.
    scrolls: { type: "string", default: "3" },
    // Scrolling stops here if the end was not reached (a loaded machine fetches pages slowly); the rows reached are reported.
    "scroll-seconds": { type: "string", default: "90" },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    // The page's CPU profile while scrolling, for prof-top (build with `vite build --minify false` to keep names).
    "cpu-prof": { type: "string" },
    // The page's sampled allocations while scrolling (this build's first scroll), collected ones
    // too: what its garbage collector has to deal with, by the function that allocated it.
    "alloc-prof": { type: "string" },
    // Another build of the UI (e.g. main's, `vite build --outDir /tmp/dist-main`), served by a second core on the
    // same database: its visits and scroll alternate with this build's, so both are measured in the same minutes.
    "baseline-dist": { type: "string" },
    // Each scroll's full trace (the timeline categories too), per build: FILE-<build>.json for the first, FILE-<build>-<n>.json
    // for the n-th after it, to see what the long tasks run (a long task by wall time is seldom in the first scroll).
    "trace-out": { type: "string" },
    // Counts the elements the list creates while scrolling (a MutationObserver: it costs the scroll
    // a little, in both builds): how much DOM a scroll makes, and leaves to the garbage collector,
    // whatever the host's load.
    "count-elements": { type: "boolean", default: false },
    // The list once each build's first scroll has settled: FILE-<build>.png.
    screenshot: { type: "string" },
    // Each build's scrolls after its first go back to the top of the same page and down again (no
    // navigation): the heap the earlier scrolls left stays, as it does for a user who scrolls back.
    // Without it each scroll is a fresh navigation, whose first collections also sweep the last
    // page's heap in the same renderer.
    "same-page": { type: "boolean", default: false },
    // The renderer's garbage-collection pauses in each scroll (its trace records the timeline category too: a little dearer).
    gc: { type: "boolean", default: false },
  },
});
const CHECKS = Number(values.checks);
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const DIST = fileURLToPath(new URL("../packages/web/dist/index.html", import.meta.url));
if (!existsSync(DIST)) throw new Error("No built UI: run `npm run build` first.");
const BASELINE = values["baseline-dist"];
if (BASELINE !== undefined && !existsSync(`${BASELINE}/index.html`)) throw new Error(`No built UI in ${BASELINE} (--baseline-dist).`);
if (!existsSync(values.chromium)) throw new Error(`No Chromium at ${values.chromium}: apt-get install -y chromium, or --chromium <path>.`);

const database = await openBenchDatabase();
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: 4 });
const now = Date.now();
const hour = Math.floor(now / 3_600_000) * 3_600_000;
const day = Math.floor(now / DAY_MS) * DAY_MS;

// --- Data: checks, their health, their rollups ----------------------------------------------

const definition = checkDefinitionSchema.parse({
  name: "template",
  type: "http",
  url: "https://example.com/health",
  runOn: { satellites: { regions: ["bench-nowhere"] } },
  labels: { env: "prod" },
});
const seedStarted = performance.now();
await pool.query(
  `INSERT INTO checks (id, name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, definition)
   SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'check-' || lpad(n::text, 5, '0'), 'http', true, 60, 10000,
          $2::jsonb, false, $3::jsonb, jsonb_set($1::jsonb, '{name}', to_jsonb('check-' || lpad(n::text, 5, '0')))
   FROM generate_series(0, $4::integer - 1) AS n`,
  [JSON.stringify(definition), JSON.stringify(definition.labels), JSON.stringify(definition.runOn.satellites), CHECKS],
);
// One in fifty unhealthy, one in twenty degraded: a realistic spread of badges.
await pool.query(
  `INSERT INTO check_health (check_id, status, since, reason, evaluated_at, locations)
   SELECT id, CASE WHEN n % 50 = 0 THEN 'unhealthy' WHEN n % 20 = 0 THEN 'degraded' ELSE 'healthy' END, now() - interval '1 hour', 'bench', now(),
          jsonb_build_object('core', jsonb_build_object('status', 'healthy', 'since', now() - interval '1 hour', 'lastResultAt', now()))
   FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM checks) AS c`,
);
const partitions = createPartitionCatalog({ pool, logger });
const hist = `{${[0, 0, 0, 0, 0, 0, 0, 2, 6, 1, ...new Array<number>(19).fill(0)].join(",")}}`;
const rollups = async (level: "1h" | "1d", from: number, to: number, stepMs: number) => {
  const times: number[] = [];
  for (let at = from; at <= to; at += DAY_MS) times.push(at);
  await partitions.ensure(level, [...times, to]);
  const { rowCount } = await pool.query(
    `INSERT INTO check_rollups_${level} (check_id, bucket, location, total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist)
     SELECT c.id, b, 'core', 60, 59 - (extract(epoch FROM b)::bigint / 3600 + c.n) % 3, 0, (extract(epoch FROM b)::bigint / 3600 + c.n) % 3, 0, 59 * 40, 12, 90, $4::integer[]
     FROM generate_series($1::timestamptz, $2::timestamptz, make_interval(secs => $3)) AS b
       CROSS JOIN (SELECT id, row_number() OVER () AS n FROM checks) AS c`,
    [new Date(from).toISOString(), new Date(to).toISOString(), stepMs / 1000, hist],
  );
  return rowCount ?? 0;
};
const progress = (what: string) => console.error(`ui-checks-list: ${what} (${((performance.now() - seedStarted) / 1000).toFixed(0)} s)`);
progress("checks and health written");
const hourRows = await rollups("1h", hour - Number(values["hour-days"]) * DAY_MS, hour, 3_600_000);
const dayRows = await rollups("1d", day - Number(values["day-days"]) * DAY_MS, day, DAY_MS);
await pool.query("VACUUM ANALYZE checks, check_health, check_rollups_1h, check_rollups_1d");
const seedSeconds = (performance.now() - seedStarted) / 1000;

// --- The core and the browser ----------------------------------------------------------------

const coreConfig = { host: "127.0.0.1", port: 0, databaseUrl: database.url, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN };
const core = await startCore(coreConfig, logger);
const baselineCore = BASELINE === undefined ? undefined : await startCore(coreConfig, logger, { webRoot: BASELINE });
const browser = await chromium.launch({ executablePath: values.chromium, args: ["--no-sandbox"] });

/** Marks in the page, from navigation start: the first row, and the first row's bars. */
const MARKS = `
  (() => {
    const seen = (name, test) => {
      const observer = new MutationObserver(() => {
        if (!test()) return;
        performance.mark(name);
        observer.disconnect();
      });
      observer.observe(document, { childList: true, subtree: true });
    };
    seen("list-rendered", () => document.querySelector('.check-row[data-index="0"]'));
    seen("bars-rendered", () => document.querySelector('.check-row[data-index="0"] .uptime'));
  })();`;

// In-page scripts (text: this file is type-checked without the DOM's types).
/** Types a name prefix as a person would (React sees an input event); answers when, in page time. */
const TYPE_FILTER = `(text) => {
  const input = [...document.querySelectorAll("label")].find((label) => label.textContent.startsWith("Name starts with")).querySelector("input");
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, text);
  input.dispatchEvent(new Event("input", { bubbles: true }));
  return performance.now();
}`;
/** Answers when only rows matching the prefix are on screen (checked every frame). */
const FILTERED_SHOWN = `(text) => new Promise((resolve) => {
  const done = () => {
    const rows = [...document.querySelectorAll(".check-row[data-index] .name a")];
    return rows.length > 0 && rows.length <= 10 && rows.every((row) => row.textContent.startsWith(text));
  };
  const poll = () => (done() ? resolve(performance.now()) : requestAnimationFrame(poll));
  poll();
})`;
/** Scrolls 3,000 px a frame until the last row is rendered: each frame's time, and the long tasks meanwhile. */
const SCROLL_TO_END = `([total, limitMs, countElements]) => new Promise((resolve) => {
  const longTasks = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((entry) => longTasks.push(entry.duration)));
  observer.observe({ type: "longtask" });
  // New elements only: a row React moves (reinserts) is seen again, not created.
  let elementsAdded = 0;
  const known = new WeakSet();
  const list = document.querySelector(".check-table");
  const see = (element) => {
    if (known.has(element)) return;
    known.add(element);
    elementsAdded++;
  };
  if (countElements) for (const element of list.getElementsByTagName("*")) known.add(element);
  const added = new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) if (node instanceof Element) [node, ...node.getElementsByTagName("*")].forEach(see);
  });
  if (countElements) added.observe(list, { childList: true, subtree: true });
  const frames = [];
  const started = performance.now();
  let last = started;
  const lastIndex = () => Math.max(...[...document.querySelectorAll(".check-row[data-index]")].map((row) => Number(row.getAttribute("data-index"))));
  const step = () => {
    const at = performance.now();
    frames.push(at - last);
    last = at;
    window.scrollBy(0, 3000);
    if (lastIndex() >= total - 1 || at - started > limitMs) {
      observer.disconnect();
      added.disconnect();
      resolve({ seconds: (performance.now() - started) / 1000, frames, longTasks, rows: lastIndex() + 1, elementsAdded: countElements ? elementsAdded : null });
      return;
    }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})`;

/**
 * Once the scroll settled: the rows on screen that do not show their own check (the seeded names
 * follow the list's order: check-00000 is row 0), or lack its status and bar — rows are slots that
 * the checks scrolling through reuse (checks-page.tsx), so a row showing a stale cell is the bug to catch.
 */
const WRONG_ROWS = `(() => [...document.querySelectorAll(".check-row[data-index]")].flatMap((row) => {
  const index = Number(row.getAttribute("data-index"));
  const name = row.querySelector(".name a")?.textContent;
  const ok = name === "check-" + String(index).padStart(5, "0") && row.querySelector(".badge") && row.querySelector(".uptime");
  return ok ? [] : [index + ": " + name];
}))()`;

interface Visit {
  firstRowMs: number;
  barsMs: number;
  filteredMs: number;
  filteredAfterPauseMs: number;
  /** Where the time to the first row went: when the script arrived, when the first page's answer did (request start → end). */
  scriptEndMs: number;
  listStartMs: number;
  listEndMs: number;
}

/** From navigation start: the app's script loaded, the first page of checks asked for and answered (resource timing). */
const RESOURCE_TIMES = `(() => {
  const entries = performance.getEntriesByType("resource");
  const script = entries.find((entry) => entry.name.includes("/assets/index-") && entry.name.endsWith(".js"));
  const list = entries.find((entry) => entry.name.includes("/api/v1/checks?"));
  return { scriptEndMs: script ? script.responseEnd : NaN, listStartMs: list ? list.startTime : NaN, listEndMs: list ? list.responseEnd : NaN };
})()`;

async function visit(page: Page, origin: string): Promise<Visit> {
  await page.goto(`${origin}/checks`);
  await page.locator('.check-row[data-index="0"] .uptime').waitFor();
  const marks = await page.evaluate(() => ({
    firstRowMs: performance.getEntriesByName("list-rendered")[0]!.startTime,
    barsMs: performance.getEntriesByName("bars-rendered")[0]!.startTime,
  }));
  const resources = await page.evaluate<{ scriptEndMs: number; listStartMs: number; listEndMs: number }>(RESOURCE_TIMES);
  // A filter: from the keystroke to the matching rows on screen. The list waits for a 250 ms
  // pause in typing before it asks, so both the total and the part after the pause are shown.
  const prefix = "check-0123";
  const typedAt = await page.evaluate<number>(`(${TYPE_FILTER})(${JSON.stringify(prefix)})`);
  const shownAt = await page.evaluate<number>(`(${FILTERED_SHOWN})(${JSON.stringify(prefix)})`);
  const filteredMs = shownAt - typedAt;
  return { ...marks, ...resources, filteredMs, filteredAfterPauseMs: filteredMs - 250 };
}

const LONG_TASK_MS = 50;

/**
 * Scrolls to the list's very end (pages load as their end comes into view); frames and long tasks
 * meanwhile, the renderer's tasks traced (a CPU profile instead, when asked: not both, the
 * profiler's sampling would lengthen every traced task).
 */
async function scrollAll(
  page: Page,
  origin: string,
  {
    navigate,
    profilePath,
    allocPath,
    tracePath,
    screenshotPath,
  }: { navigate: boolean; profilePath?: string; allocPath?: string; tracePath?: string; screenshotPath?: string },
) {
  if (navigate) await page.goto(`${origin}/checks`);
  else {
    // Back to the top of the same list (its loaded pages and cached summaries kept), settled, as after a navigation.
    await page.evaluate("window.scrollTo(0, 0)");
    await page.waitForFunction(`document.querySelector('.check-row[data-index="0"] .uptime') !== null && document.querySelector(".check-row.light") === null`);
  }
  await page.locator('.check-row[data-index="0"] .uptime').waitFor();
  const profiler = profilePath ? await page.context().newCDPSession(page) : undefined;
  await profiler?.send("Profiler.enable");
  await profiler?.send("Profiler.start");
  const allocations = allocPath ? await page.context().newCDPSession(page) : undefined;
  await allocations?.send("HeapProfiler.enable");
  await allocations?.send("HeapProfiler.startSampling", {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const categories = tracePath
    ? ["toplevel", "devtools.timeline", "v8.execute", "blink.user_timing", "disabled-by-default-devtools.timeline"]
    : values.gc
      ? ["toplevel", "devtools.timeline"]
      : ["toplevel"];
  if (!profiler) await browser.startTracing(page, { categories });
  const scrolled = await page.evaluate<{ seconds: number; frames: number[]; longTasks: number[]; rows: number; elementsAdded: number | null }>(
    `(${SCROLL_TO_END})([${CHECKS}, ${Number(values["scroll-seconds"]) * 1000}, ${values["count-elements"]}])`,
  );
  if (profiler) writeFileSync(profilePath!, JSON.stringify((await profiler.send("Profiler.stop")).profile));
  if (allocations) writeFileSync(allocPath!, JSON.stringify((await allocations.send("HeapProfiler.stopSampling")).profile));
  const raw = profiler ? undefined : (await browser.stopTracing()).toString("utf8");
  if (raw !== undefined && tracePath) writeFileSync(tracePath, raw);
  const trace = raw === undefined ? undefined : (JSON.parse(raw) as { traceEvents: TraceEvent[] });
  await page.waitForFunction(`document.querySelector(".check-row.light") === null`);
  const wrong = await page.evaluate<string[]>(WRONG_ROWS);
  if (wrong.length > 0) throw new Error(`${origin}: rows not showing their own check after the scroll: ${wrong.join(", ")}`);
  if (screenshotPath) await page.screenshot({ path: screenshotPath });
  return { ...scrolled, tasks: trace ? rendererTasks(trace.traceEvents) : [], gc: trace ? gcPauses(trace.traceEvents) : null, heap: await heapOf(page) };
}

/**
 * The page's JavaScript heap once a scroll settled (MB): in use, and what a full collection
 * leaves of it (what the list keeps: every later major collection marks that much again).
 * The collection is forced after the scroll is measured; a --same-page scroll then starts without
 * the last one's garbage, as after a user's pause.
 */
async function heapOf(page: Page): Promise<{ usedMb: number; liveMb: number }> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    const mb = async () => (await cdp.send("Runtime.getHeapUsage")).usedSize / 1_048_576;
    const usedMb = await mb();
    await cdp.send("HeapProfiler.collectGarbage");
    return { usedMb, liveMb: await mb() };
  } finally {
    await cdp.detach();
  }
}

/** A scroll's long tasks: by the page's own observer (wall), and in the trace by wall and by CPU time. */
function longTasksOf(scroll: Scroll) {
  const cpu = scroll.tasks.map((task) => task.cpuMs).filter((ms): ms is number => ms !== null);
  const over = (times: readonly number[]) => times.filter((ms) => ms > LONG_TASK_MS);
  return {
    observed: scroll.longTasks,
    tracedWall: over(scroll.tasks.map((task: RendererTask) => task.wallMs)),
    tracedCpu: over(cpu),
    longestCpuMs: Math.max(0, ...cpu),
    // Headroom: tasks a loaded host could stretch past 50 ms by holding them off the CPU.
    cpuOver10: cpu.filter((ms) => ms > 10).length,
    cpuOver16: cpu.filter((ms) => ms > 16).length,
    cpuP99: quantile(cpu, 0.99),
    traced: scroll.tasks.length > 0,
    cpuTimed: cpu.length > 0,
  };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const median = (values: number[]) => quantile(values, 0.5);
const fixed = (ms: number) => ms.toFixed(0);

type Scroll = Awaited<ReturnType<typeof scrollAll>>;
interface Build {
  name: string;
  origin: string;
  /** Its own browser context, so its own renderer process: two builds never share a heap (their origins differ in port only, which is the same site). */
  page: Page;
  visits: Visit[];
  scrolls: Scroll[];
}

try {
  const contexts: BrowserContext[] = [];
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    await context.addInitScript(`sessionStorage.setItem("vantage.credentials", ${JSON.stringify(JSON.stringify({ kind: "token", token: ADMIN_TOKEN }))});`);
    await context.addInitScript(MARKS);
    return context.newPage();
  };
  const builds: Build[] = [{ name: "this build", origin: core.url, page: await newPage(), visits: [], scrolls: [] }];
  if (baselineCore) builds.unshift({ name: "baseline", origin: baselineCore.url, page: await newPage(), visits: [], scrolls: [] });
  // The first visit of each warms the core's statement cache and the browser's; the rest are
  // measured, the builds taking turns (and swapping who goes first) so load drifts hit both.
  progress("cores and browser started");
  for (const build of builds) await visit(build.page, build.origin);
  for (let i = 0; i < Number(values.visits); i++) {
    for (const build of i % 2 === 0 ? builds : [...builds].reverse()) build.visits.push(await visit(build.page, build.origin));
  }
  progress("visits measured; scrolling");
  for (let i = 0; i < Number(values.scrolls); i++) {
    for (const build of i % 2 === 0 ? builds : [...builds].reverse()) {
      // The CPU profile (if asked) of this build's first scroll only.
      const profile = values["cpu-prof"] && build.origin === core.url && i === 0 ? values["cpu-prof"] : undefined;
      const tracePath = values["trace-out"] ? `${values["trace-out"]}-${build.name.replace(/ /g, "-")}${i === 0 ? "" : `-${i + 1}`}.json` : undefined;
      const screenshotPath = values.screenshot && i === 0 ? `${values.screenshot}-${build.name.replace(/ /g, "-")}.png` : undefined;
      const navigate = !values["same-page"] || i === 0;
      const allocPath = values["alloc-prof"] && i === 0 ? `${values["alloc-prof"]}-${build.name.replace(/ /g, "-")}.json` : undefined;
      build.scrolls.push(await scrollAll(build.page, build.origin, { navigate, profilePath: profile, allocPath, tracePath, screenshotPath }));
      progress(`${build.name}: scroll ${i + 1} of ${values.scrolls}`);
    }
  }
  for (const context of contexts) await context.close();

  console.log(
    `ui-checks-list: ${CHECKS} checks (${hourRows} hourly and ${dayRows} daily rollup rows, seeded in ${seedSeconds.toFixed(1)} s) on ${database.describe}; Chromium ${browser.version()}, 1280×800; medians of ${values.visits} visits after one warm-up${baselineCore ? `, baseline ${BASELINE} and this build taking turns` : ""}; ${values["same-page"] ? "each build's scrolls in one page (back to the top between them)" : "each scroll a fresh navigation"}`,
  );
  const cell = (visits: Visit[], pick: (visit: Visit) => number) => `${fixed(median(visits.map(pick)))} / ${fixed(Math.max(...visits.map(pick)))}`;
  const row = (what: string, pick: (visit: Visit) => number, goal: string) => ({
    measure: what,
    ...Object.fromEntries(builds.map((build) => [`${build.name}: median / max ms`, cell(build.visits, pick)])),
    goal,
  });
  console.log(
    table([
      row("navigation → app script loaded", (v) => v.scriptEndMs, "—"),
      row("navigation → first page asked for", (v) => v.listStartMs, "—"),
      row("navigation → first page answered", (v) => v.listEndMs, "—"),
      row("navigation → first row", (v) => v.firstRowMs, "< 1000"),
      row("navigation → bars and sparklines", (v) => v.barsMs, "< 1000"),
      row("keystroke → filtered rows", (v) => v.filteredMs, "—"),
      row("… less the 250 ms typing pause", (v) => v.filteredAfterPauseMs, "< 1000"),
    ]),
  );
  const ms = (times: readonly number[]) => (times.length > 0 ? `${times.length} (longest ${fixed(Math.max(...times))})` : "0");
  console.log(
    table(
      builds.flatMap(({ name, scrolls }) =>
        scrolls.map((scroll, i) => {
          const long = longTasksOf(scroll);
          return {
            build: name,
            run: i + 1,
            scrolled: `${scroll.rows} rows${scroll.rows < CHECKS ? ` (stopped after ${values["scroll-seconds"]} s)` : ""} in ${scroll.seconds.toFixed(1)} s`,
            "frame p50 / p95 / max ms": `${fixed(quantile(scroll.frames, 0.5))} / ${fixed(quantile(scroll.frames, 0.95))} / ${fixed(Math.max(...scroll.frames))}`,
            "long tasks, observer (wall)": ms(long.observed),
            "traced, wall": long.traced ? ms(long.tracedWall) : "n/a",
            "traced, CPU": long.cpuTimed ? ms(long.tracedCpu) : "n/a",
            "longest task CPU ms": long.cpuTimed ? fixed(long.longestCpuMs) : "n/a",
            "tasks > 10 / > 16 ms CPU, p99": long.cpuTimed ? `${long.cpuOver10} / ${long.cpuOver16}, ${long.cpuP99.toFixed(1)}` : "n/a",
            ...(scroll.elementsAdded === null ? {} : { "elements created": scroll.elementsAdded }),
            ...(scroll.gc === null
              ? {}
              : {
                  "GC minor / major: n, CPU ms": `${scroll.gc.minor.count}, ${fixed(scroll.gc.minor.cpuMs)} / ${scroll.gc.major.count}, ${fixed(scroll.gc.major.cpuMs)}`,
                  "longest GC wall ms": fixed(Math.max(scroll.gc.minor.longestWallMs, scroll.gc.major.longestWallMs)),
                }),
            "heap MB: used / live": `${scroll.heap.usedMb.toFixed(1)} / ${scroll.heap.liveMb.toFixed(1)}`,
          };
        }),
      ),
    ),
  );
  for (const { name, scrolls } of builds) {
    const traced = scrolls.map(longTasksOf).filter((long) => long.cpuTimed);
    const clean = (pick: (long: ReturnType<typeof longTasksOf>) => readonly number[]) => traced.filter((long) => pick(long).length === 0).length;
    console.log(
      `${name}: runs without a long task > ${LONG_TASK_MS} ms — by CPU time ${clean((long) => long.tracedCpu)} of ${traced.length}, by wall time (observer) ${clean((long) => long.observed)} of ${traced.length} (goal: no long task > 50 ms)`,
    );
  }
} finally {
  await browser.close();
  await baselineCore?.stop();
  await core.stop();
  await pool.end();
  await database.close();
}
