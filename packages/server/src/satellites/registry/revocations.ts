// Revocations: a satellite's token was rotated or the satellite deleted, so whichever core
// process holds its socket must close it now. Broadcast through NOTIFY, sent only on commit.
import { shutdownReasonSchema } from "@vantage/protocol";
import { z } from "zod";
import { parseNotice, publishNotice } from "../../cluster/index.ts";
import type { SqlClient } from "../../entities/index.ts";

export const SATELLITE_REVOKED_CHANNEL = "vantage_satellite_revoked";

export const satelliteRevocationSchema = z.object({
  satelliteId: z.string().min(1),
  /** Also the reason of the `shutdown` frame the holder sends before closing. */
  reason: shutdownReasonSchema.extract(["token_rotated", "deleted"]),
});
export type SatelliteRevocation = z.infer<typeof satelliteRevocationSchema>;

/**
 * Queues the revocation NOTIFY in `tx`, the transaction that rotates or deletes: PostgreSQL
 * delivers it on commit and drops it on rollback, so sockets close only for a committed change.
 */
export async function publishRevocation(tx: SqlClient, revocation: SatelliteRevocation): Promise<void> {
  await publishNotice(tx, SATELLITE_REVOKED_CHANNEL, revocation);
}

/** A NOTIFY payload as a revocation, or null when it is not one (a subscriber logs and skips it). */
export function parseRevocation(payload: string): SatelliteRevocation | null {
  return parseNotice(satelliteRevocationSchema, payload);
}
