// The one uuid rule: ids of every resource are uuids, accepted in any case (as PostgreSQL
// accepts them) and used in lower case, the spelling PostgreSQL prints and Vantage stores.
import { z } from "zod";

// Any 8-4-4-4-12 hex uuid, whatever its version bits: PostgreSQL's uuid type takes them all.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True if `value` is a uuid in any case. */
export const isUuid = (value: string): boolean => UUID.test(value);

/** `value` as a uuid in lower case, or undefined when it is not a uuid. */
export function canonicalUuid(value: string): string | undefined {
  return isUuid(value) ? value.toLowerCase() : undefined;
}

/**
 * True only for a uuid already in lower case: inside the core, where ids were made canonical
 * at the edge, another spelling names nothing (entity ids and lock keys compare as text).
 */
export const isCanonicalUuid = (value: string): boolean => canonicalUuid(value) === value;

/** A string schema for a uuid field: any case in, lower case out. */
export function uuidSchema(message = "must be a uuid"): z.ZodString {
  return z.string().regex(UUID, message).toLowerCase();
}
