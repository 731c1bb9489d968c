// Declares `heartbeat_lost` for connected satellites whose heartbeat expired, whichever
// process held (or still holds) their socket. One active monitor per cluster (session
// advisory lock); the others stand by and take over within a takeover interval.
import type pg from "pg";
import { Counter, type Registry } from "prom-client";
import { createLeaderDuty } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";
import type { SatelliteService } from "./service.ts";

/** Time between sweeps. Detection comes within threshold + this + the marking itself. */
export const HEARTBEAT_MONITOR_INTERVAL_MS = 1000;
/** The design's bound on the sweep interval. */
const MAX_MONITOR_INTERVAL_MS = 2000;

export interface HeartbeatMonitorOptions {
  pool: pg.Pool;
  satellites: Pick<SatelliteService, "findExpired" | "markHeartbeatLostMany">;
  logger: Logger;
  /** Time between sweeps of the active monitor (default 1 s, at most 2 s). */
  intervalMs?: number;
  /** How often a standby monitor tries to become the active one (default 1 s). */
  takeoverIntervalMs?: number;
  /** Most satellites one sweep handles (one transaction); a larger backlog continues at once. */
  batchSize?: number;
  registry?: Registry;
  /** Observes the loop (tests): after each sweep of the active monitor. */
  onSweep?: (lost: readonly string[]) => void;
}

export interface HeartbeatMonitor {
  start(): void;
  /** Finishes the sweep in hand, releases the lock and its connection. */
  stop(): Promise<void>;
  isLeader(): boolean;
  /**
   * One sweep, on this process, lock or not: the satellites it recorded as lost. Safe to
   * run anywhere, any number of times: each edge is a conditional update.
   */
  sweep(): Promise<string[]>;
}

export function createHeartbeatMonitor(options: HeartbeatMonitorOptions): HeartbeatMonitor {
  const { pool, satellites } = options;
  const intervalMs = Math.min(options.intervalMs ?? HEARTBEAT_MONITOR_INTERVAL_MS, MAX_MONITOR_INTERVAL_MS);
  const takeoverIntervalMs = options.takeoverIntervalMs ?? 1000;
  const batchSize = options.batchSize ?? 500;
  const log = options.logger.child({ component: "heartbeat-monitor" });
  const lostCounter = new Counter({
    name: "vantage_satellite_heartbeat_lost_total",
    help: "Satellites this process's heartbeat monitor recorded as heartbeat_lost",
    registers: options.registry ? [options.registry] : [],
  });
  const markLost = async (expired: string[]): Promise<string[]> => {
    if (expired.length === 0) return [];
    try {
      return await satellites.markHeartbeatLostMany({ satelliteIds: expired });
    } catch (error) {
      log.warn({ err: error, satellites: expired.length }, "could not record lost heartbeats; the next sweep retries");
      return [];
    }
  };

  const sweepBatch = async (): Promise<{ lost: string[]; more: boolean }> => {
    const expired = await satellites.findExpired({ limit: batchSize });
    // One transaction for the whole batch: a mass outage is recorded in a few commits.
    const lost = await markLost(expired);
    lostCounter.inc(lost.length);
    if (lost.length > 0) log.info({ satellites: lost.length }, "recorded satellites whose heartbeat was lost");
    // A full batch that made progress leaves more behind: continue without sleeping.
    return { lost, more: expired.length === batchSize && lost.length > 0 };
  };

  const sweep = async (): Promise<string[]> => (await sweepBatch()).lost;

  /** Sweeps while holding the lock; the ping proves the lock's connection (and so the lock) lives. */
  const duty = createLeaderDuty({
    pool,
    lock: AdvisoryLock.heartbeatMonitor,
    duty: "heartbeat monitor",
    logger: log,
    takeoverIntervalMs,
    lead: async (client, { isRunning, sleep }) => {
      while (isRunning()) {
        await client.query("SELECT 1");
        const { lost, more } = await sweepBatch().catch((error: unknown) => {
          log.warn({ err: error }, "heartbeat sweep failed; retrying");
          return { lost: [], more: false };
        });
        options.onSweep?.(lost);
        if (!more) await sleep(intervalMs);
      }
    },
  });

  return { ...duty, sweep };
}
