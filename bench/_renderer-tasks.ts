// The renderer main thread's tasks in a Chrome trace (category `toplevel`), each with its wall
// time and its CPU time (the trace's thread time). A long task in the page's PerformanceObserver
// is wall time: on a loaded 2-CPU host a 20 ms task the scheduler held off the CPU for 40 ms
// counts as 60. The CPU time says what the page itself cost, whatever else runs on the host.

export interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  /** Wall duration, µs (complete events). */
  dur?: number;
  /** Thread (CPU) duration, µs: present where the platform records thread time. */
  tdur?: number;
  args?: { name?: string };
}

export interface RendererTask {
  wallMs: number;
  /** Null where the trace has no thread time for it. */
  cpuMs: number | null;
}

const rendererMainThreads = (events: readonly TraceEvent[]) =>
  new Set(
    events
      .filter((event) => event.ph === "M" && event.name === "thread_name" && event.args?.name === "CrRendererMain")
      .map((event) => `${event.pid}:${event.tid}`),
  );

const TASK_NAMES = new Set(["ThreadControllerImpl::RunTask", "RunTask"]);

/** Top-level tasks of every renderer main thread (`CrRendererMain`); a task inside another is part of it, not one more. */
export function rendererTasks(events: readonly TraceEvent[]): RendererTask[] {
  const mainThreads = rendererMainThreads(events);
  const tasks = events
    .filter((event) => event.ph === "X" && TASK_NAMES.has(event.name) && mainThreads.has(`${event.pid}:${event.tid}`))
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const topLevel: RendererTask[] = [];
  const endByThread = new Map<string, number>();
  for (const task of tasks) {
    const thread = `${task.pid}:${task.tid}`;
    const end = task.ts + (task.dur ?? 0);
    if (task.ts < (endByThread.get(thread) ?? -Infinity)) continue;
    endByThread.set(thread, end);
    topLevel.push({ wallMs: (task.dur ?? 0) / 1000, cpuMs: task.tdur === undefined ? null : task.tdur / 1000 });
  }
  return topLevel;
}

export interface GcPauses {
  /** Scavenges of the young generation. */
  minor: { count: number; cpuMs: number; longestWallMs: number };
  /** Mark-compact pauses (a full collection's atomic part, or an incremental one's finalization). */
  major: { count: number; cpuMs: number; longestWallMs: number };
}

/**
 * The garbage collector's pauses on the renderer main threads (`MinorGC` and `MajorGC`, category
 * `devtools.timeline`): null when the trace did not record that category.
 */
export function gcPauses(events: readonly TraceEvent[]): GcPauses | null {
  const mainThreads = rendererMainThreads(events);
  const pauses: GcPauses = { minor: { count: 0, cpuMs: 0, longestWallMs: 0 }, major: { count: 0, cpuMs: 0, longestWallMs: 0 } };
  let seen = false;
  for (const event of events) {
    if (event.ph !== "X" || (event.name !== "MinorGC" && event.name !== "MajorGC") || !mainThreads.has(`${event.pid}:${event.tid}`)) continue;
    seen = true;
    const kind = event.name === "MinorGC" ? pauses.minor : pauses.major;
    kind.count++;
    kind.cpuMs += (event.tdur ?? 0) / 1000;
    kind.longestWallMs = Math.max(kind.longestWallMs, (event.dur ?? 0) / 1000);
  }
  return seen ? pauses : null;
}
