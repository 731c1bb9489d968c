// Profile changes: a satellite's region or tags were edited, so whichever core process holds
// its socket recomputes the checks it must run. Broadcast through NOTIFY, sent only on commit.
import { uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import { parseNotice, publishNotice } from "../../cluster/index.ts";
import type { SqlClient } from "../../entities/index.ts";

export const SATELLITE_PROFILE_CHANGED_CHANNEL = "vantage_satellite_profile_changed";

// Only the id: a holder reads the current region and tags itself (tags could outgrow a NOTIFY
// payload, and a notice read late must not apply an older profile over a newer one).
export const satelliteProfileChangeSchema = z.object({ satelliteId: uuidSchema() });
export type SatelliteProfileChange = z.infer<typeof satelliteProfileChangeSchema>;

/** What checks are assigned by: a satellite's id, region and tags. */
export interface SatelliteProfile {
  id: string;
  region: string;
  tags: readonly string[];
}

/** Queues the notice in `tx`, the transaction that edits the satellite: delivered on commit. */
export async function publishProfileChange(tx: SqlClient, change: SatelliteProfileChange): Promise<void> {
  await publishNotice(tx, SATELLITE_PROFILE_CHANGED_CHANNEL, change);
}

/** A NOTIFY payload as a profile change, or null when it is not one (a subscriber logs and skips it). */
export function parseProfileChange(payload: string): SatelliteProfileChange | null {
  return parseNotice(satelliteProfileChangeSchema, payload);
}
