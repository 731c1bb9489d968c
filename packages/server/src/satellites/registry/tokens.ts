// Satellite tokens: `vsat_` + 43 base64url characters, shown once at creation or rotation;
// only their SHA-256 is stored, and verification is constant-time (see auth/secrets.ts).
import { generateSecret } from "../../auth/index.ts";

export { checkSecret, hashToken, isSlowHash, verifyAgainstDecoy, verifySecret } from "../../auth/index.ts";
export type { VerifyOptions } from "../../auth/index.ts";

export const SATELLITE_TOKEN_PREFIX = "vsat";

/** A new satellite token; it matches SATELLITE_TOKEN_PATTERN from the protocol. */
export function generateSatelliteToken(): string {
  return generateSecret(SATELLITE_TOKEN_PREFIX);
}
