// The read-only fields of an automation as the API shows it (id, version, createdAt,
// updatedAt): a GET → edit → PUT sends them back. Matching ones are dropped; a mismatch says why.
import { canonicalUuid, issueAt, validateInput } from "@vantage/protocol";
import { z } from "zod";
import { invalidInput, VantageError } from "../../errors.ts";
import type { AutomationView } from "./automation-store.ts";

const readOnlySchema = z.object({
  id: z.string().optional(),
  version: z.number().int().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
});
type ReadOnlyField = keyof z.infer<typeof readOnlySchema>;

function invalid(field: ReadOnlyField, message: string): VantageError {
  return invalidInput([issueAt([field], message)], { code: "invalid_automation" });
}

/** An automation changed (another PUT, or enable/disable) since the client read it. */
export function automationChanged(stored: Pick<AutomationView, "id" | "version" | "updatedAt">, field: string, given: unknown): VantageError {
  return new VantageError(
    "conflict",
    "automation_changed",
    `Automation ${stored.id} changed since it was read (${field} ${JSON.stringify(given)} was sent; it is now version ${stored.version}, updated ${stored.updatedAt}): GET it again and reapply the edit.`,
    { details: { version: stored.version, updatedAt: stored.updatedAt } },
  );
}

/** Dispatch table: what a read-only field that does not match the stored automation means. */
const MISMATCH: Record<ReadOnlyField, (stored: AutomationView, given: string | number) => VantageError> = {
  id: (stored, given) => invalid("id", `is ${given}, but the URL names ${stored.id}: a PUT replaces the automation its URL names, so leave id out or send its own`),
  createdAt: (stored) => invalid("createdAt", `is read-only: send ${stored.createdAt} or leave it out`),
  version: (stored, given) => automationChanged(stored, "version", given),
  updatedAt: (stored, given) => automationChanged(stored, "updatedAt", given),
};

const matches = (field: ReadOnlyField, given: string | number, stored: AutomationView): boolean =>
  // Ids are uuids, equal in any case (as PostgreSQL compares them).
  field === "id" ? canonicalUuid(String(given)) === stored.id : given === stored[field];

/**
 * The definition without its read-only fields, after checking each against the stored
 * automation, and the version it was read at (the replace makes sure it is still current).
 */
export function dropReadOnlyFields(body: unknown, stored: AutomationView): { definition: unknown; readVersion: number | undefined } {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return { definition: body, readVersion: undefined };
  const parsed = validateInput(readOnlySchema, body, { root: "the automation" });
  if (!parsed.ok) throw invalidInput(parsed.issues, { code: "invalid_automation" });
  const definition: Record<string, unknown> = { ...body };
  for (const field of Object.keys(readOnlySchema.shape) as ReadOnlyField[]) {
    const given = parsed.value[field];
    delete definition[field];
    if (given !== undefined && !matches(field, given, stored)) throw MISMATCH[field](stored, given);
  }
  return { definition, readVersion: parsed.value.version };
}
