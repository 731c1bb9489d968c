// Satellite presence, computed on read: the one rule every reader (the entity, the admin
// list, the heartbeat monitor, check routing) applies, so they can never disagree.
import { OFFLINE_THRESHOLD_MS } from "@vantage/protocol";

export type SatelliteStatus = "online" | "offline";

export interface PresenceFacts {
  /** The last heartbeat; a number is epoch milliseconds. Null/undefined: none since connecting. */
  lastHeartbeatAt: Date | number | string | null | undefined;
  /** The satellite's own threshold; anything but a positive finite number means the default. */
  offlineThresholdMs?: number | null | undefined;
}

/** The threshold that applies: the satellite's override when usable, else OFFLINE_THRESHOLD_MS. */
export function effectiveThresholdMs(threshold: number | null | undefined): number {
  return typeof threshold === "number" && Number.isFinite(threshold) && threshold > 0 ? threshold : OFFLINE_THRESHOLD_MS;
}

/**
 * Online iff a heartbeat exists and `now − lastHeartbeatAt ≤ threshold`. The boundary is
 * inclusive: a heartbeat exactly one threshold old still counts. A heartbeat from the
 * future (clock skew between core processes) reads online.
 */
export function computeStatus(facts: PresenceFacts, now: number | Date = Date.now()): SatelliteStatus {
  const heartbeatMs = toEpochMs(facts.lastHeartbeatAt);
  if (heartbeatMs === undefined) return "offline";
  const nowMs = now instanceof Date ? now.getTime() : now;
  return nowMs - heartbeatMs <= effectiveThresholdMs(facts.offlineThresholdMs) ? "online" : "offline";
}

/** Epoch milliseconds, or undefined when there is no usable timestamp. */
function toEpochMs(value: Date | number | string | null | undefined): number | undefined {
  if (value == null) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : value;
  return Number.isFinite(ms) ? ms : undefined;
}
