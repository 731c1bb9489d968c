// Timing constants every part of Vantage agrees on (core, satellite and UI).
// Units are in the names: a threshold is always milliseconds.

/** How often a satellite heartbeats unless the core tells it otherwise. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** A satellite with no heartbeat for this long reads offline: three missed heartbeats. */
export const OFFLINE_THRESHOLD_MS = 45_000;
