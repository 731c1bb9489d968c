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

const TASK_NAMES = new Set(["ThreadControllerImpl::RunTask", "RunTask"]);

/** Top-level tasks of every renderer main thread (`CrRendererMain`); a task inside another is part of it, not one more. */
export function rendererTasks(events: readonly TraceEvent[]): RendererTask[] {
  const mainThreads = new Set(
    events
      .filter((event) => event.ph === "M" && event.name === "thread_name" && event.args?.name === "CrRendererMain")
      .map((event) => `${event.pid}:${event.tid}`),
  );
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
