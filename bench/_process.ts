// Helpers for benchmarks that measure another process: its CPU time and RSS read from /proc
// (whatever runs inside it), a child's first JSON line, and a child stopped and awaited.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { createInterface } from "node:readline";

const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessSample {
  /** User + system CPU time so far. */
  cpuSeconds: number;
  rssBytes: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuSeconds: processCpuSeconds(pid), rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

/** User + system CPU time so far of one process: one read of /proc (sampleProcess reads its RSS too). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU time so far of a process and everything it started: its own, its reaped children's and
 * each live child's (a PostgreSQL server: the postmaster, its backends and its workers).
 */
export function processTreeCpuSeconds(pid: number): number {
  const fieldsOf = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const root = fieldsOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
  let ticks = Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fields: string[];
    try {
      fields = fieldsOf(readFileSync(`/proc/${entry}/stat`, "utf8"));
    } catch {
      continue; // it ended meanwhile (its time is in the root's reaped children's)
    }
    if (Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Busy and total CPU time of the host since boot, in ms, summed over its CPUs. */
export function hostCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** The pid of the PostgreSQL server (postmaster) behind a connection whose backend pid is given, if it runs on this machine. */
export function postmasterOf(backendPid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${backendPid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** Lines of a child's stdout, read one JSON object at a time. */
export function jsonLines(child: ChildProcess): () => Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  return async () => {
    const next = await iterator.next();
    if (next.done) throw new Error(`process ${child.pid} ended before printing its report`);
    return JSON.parse(next.value as string) as Record<string, unknown>;
  };
}

export function stopChild(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  return exited;
}

/** User + system CPU time so far of a process and every live descendant (e.g. PostgreSQL's backends). */
export function sampleProcessTreeCpu(rootPid: number): number {
  const parentOf = new Map<number, number>();
  const cpuOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    parentOf.set(Number(entry), Number(fields[1]));
    cpuOf.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
  }
  let total = 0;
  for (const [pid, cpu] of cpuOf) {
    let ancestor: number | undefined = pid;
    while (ancestor !== undefined && ancestor !== rootPid && ancestor > 1) ancestor = parentOf.get(ancestor);
    if (ancestor === rootPid) total += cpu;
  }
  return total;
}
