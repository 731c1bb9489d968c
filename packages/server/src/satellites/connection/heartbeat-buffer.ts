// Coalesces the heartbeats of this process's satellite sockets and writes them in one
// statement per flush, so a heartbeat never costs a database round trip of its own.
import { OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import { Histogram, type Registry } from "prom-client";
import { createWakeableSleep } from "../../cluster/index.ts";
import type { SqlClient } from "../../entities/index.ts";
import type { Logger } from "../../log.ts";
import { markEach } from "./mark-each.ts";
import { CONNECTED_FOUND_BY_ID, type SatelliteService } from "./service.ts";

/** The design's bound: every heartbeat reaches the database within a second. */
export const HEARTBEAT_FLUSH_INTERVAL_MS = 1000;

// One statement for every satellite of the flush. A heartbeat only counts for the session
// that owns the row: one from a stale socket (the satellite reconnected elsewhere, or its
// close was already recorded) matches nothing. offline_at follows last_heartbeat_at (the
// table's CHECK and the monitor's index depend on it), with the default threshold as $4
// because NULL is the only value that falls back to it. Rows whose heartbeat was declared
// lost are not written here: the CTE's final SELECT reads the statement's snapshot and
// names them, and each gets a recovery mutate (an entity change) instead.
const FLUSH_HEARTBEATS = `
  WITH beat AS (
    SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[]) AS v(id, at, session)
  ), written AS (
    UPDATE satellites s
    SET last_heartbeat_at = beat.at,
        offline_at = beat.at + COALESCE(s.offline_threshold_ms, $4::integer) * interval '1 millisecond',
        updated_at = beat.at
    FROM beat
    WHERE s.id = beat.id AND s.session_id = beat.session AND ${CONNECTED_FOUND_BY_ID}
    RETURNING s.id
  )
  SELECT s.id, s.session_id FROM satellites s JOIN beat ON s.id = beat.id AND s.session_id = beat.session
  WHERE s.last_connection_event = 'heartbeat_lost'`;

export interface HeartbeatBufferOptions {
  pool: SqlClient;
  satellites: Pick<SatelliteService, "markRecovered">;
  logger: Logger;
  /** The clock, in epoch milliseconds: a heartbeat is stamped when it is recorded. */
  now?: () => number;
  /** At most this long between flushes (default and maximum: HEARTBEAT_FLUSH_INTERVAL_MS). */
  flushIntervalMs?: number;
  /** Where flush size and duration are observed (the instance's metrics registry). */
  registry?: Registry;
}

export interface HeartbeatFlush {
  /** How many satellites the statement carried. */
  size: number;
  /** Satellites whose loss had been recorded and that were recovered (a `connected` edge). */
  recovered: string[];
}

export interface HeartbeatBuffer {
  /** Notes a heartbeat of `satelliteId` on `sessionId`, now. No I/O. */
  record(satelliteId: string, sessionId: string): void;
  /** Writes everything recorded so far now (one statement), then the recoveries. */
  flush(): Promise<HeartbeatFlush>;
  /** Starts the periodic flush. */
  start(): void;
  /** Stops the periodic flush after a last one. */
  stop(): Promise<void>;
}

interface Beat {
  at: number;
  sessionId: string;
}

export function createHeartbeatBuffer(options: HeartbeatBufferOptions): HeartbeatBuffer {
  const { pool, satellites } = options;
  const now = options.now ?? Date.now;
  const intervalMs = Math.min(options.flushIntervalMs ?? HEARTBEAT_FLUSH_INTERVAL_MS, HEARTBEAT_FLUSH_INTERVAL_MS);
  const log = options.logger.child({ component: "heartbeat-buffer" });
  const registers = options.registry ? [options.registry] : [];
  const flushSize = new Histogram({
    name: "vantage_satellite_heartbeat_flush_size",
    help: "Satellites written by one heartbeat flush (one statement)",
    buckets: [1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000],
    registers,
  });
  const flushDuration = new Histogram({
    name: "vantage_satellite_heartbeat_flush_duration_seconds",
    help: "Duration of one heartbeat flush, its recoveries included",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });

  let pending = new Map<string, Beat>();
  let flushing: Promise<HeartbeatFlush> | undefined;
  const sleep = createWakeableSleep();
  let loop: Promise<void> | undefined;
  let running = false;

  /** Puts back what a failed flush carried, unless a newer heartbeat arrived meanwhile. */
  const restore = (beats: Map<string, Beat>) => {
    for (const [id, beat] of beats) if (!pending.has(id)) pending.set(id, beat);
  };

  const write = async (): Promise<HeartbeatFlush> => {
    const beats = pending;
    pending = new Map();
    if (beats.size === 0) return { size: 0, recovered: [] };
    const stopTimer = flushDuration.startTimer();
    const ids: string[] = [];
    const ats: Date[] = [];
    const sessions: string[] = [];
    for (const [id, beat] of beats) {
      ids.push(id);
      ats.push(new Date(beat.at));
      sessions.push(beat.sessionId);
    }
    let lost: Array<{ id: string; session_id: string }>;
    try {
      ({ rows: lost } = await pool.query<{ id: string; session_id: string }>(FLUSH_HEARTBEATS, [ids, ats, sessions, OFFLINE_THRESHOLD_MS]));
    } catch (error) {
      restore(beats);
      stopTimer();
      throw error;
    }
    flushSize.observe(beats.size);
    const sessionOf = new Map(lost.map((row) => [row.id, row.session_id]));
    const recovered = await markEach([...sessionOf.keys()], async (satelliteId) => {
      try {
        return (await satellites.markRecovered({ satelliteId, sessionId: sessionOf.get(satelliteId)! })).change !== null;
      } catch (error) {
        // The next heartbeat of that satellite finds it lost again and retries.
        log.warn({ err: error, satelliteId }, "could not record a satellite's recovery");
        return false;
      }
    });
    stopTimer();
    return { size: beats.size, recovered };
  };

  // Flushes never overlap: a flush asked for while one runs waits for it, then writes
  // what arrived meanwhile.
  const flush = async (): Promise<HeartbeatFlush> => {
    while (flushing) await flushing.catch(() => undefined);
    const current = write();
    flushing = current;
    try {
      return await current;
    } finally {
      flushing = undefined;
    }
  };

  // On a fixed cadence: a flush's own duration (large fleets) does not stretch the period.
  const run = async () => {
    let tookMs = 0;
    while (running) {
      await sleep.sleep(Math.max(0, intervalMs - tookMs));
      const started = performance.now();
      await flush().catch((error: unknown) => log.warn({ err: error }, "heartbeat flush failed; retrying with the next one"));
      tookMs = performance.now() - started;
    }
  };

  return {
    record(satelliteId, sessionId) {
      pending.set(satelliteId, { at: now(), sessionId });
    },
    flush,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      sleep.wake();
      await loop;
      loop = undefined;
      sleep.clear();
      await flush().catch((error: unknown) => log.warn({ err: error }, "last heartbeat flush failed"));
    },
  };
}
