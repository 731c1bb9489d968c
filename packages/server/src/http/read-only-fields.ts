// The read-only fields of a resource as the API shows it (id, the number that counts its writes,
// createdAt, updatedAt): a GET → edit → PUT sends them back. Matching ones are dropped; a
// mismatch says why, and a stale version or updatedAt is a conflict (the edit was made on an
// older read), so the PUT can also refuse to overwrite a write it has not seen.
import { canonicalUuid, type ErrorCode, issueAt, validateInput } from "@vantage/protocol";
import { z } from "zod";
import { invalidInput, VantageError } from "../errors.ts";

export interface ReadOnlyFieldsOptions<Version extends string> {
  /** The resource as messages name it, in lower case: "automation", "check". */
  resource: string;
  /** The field that counts its writes: "version", "revision". */
  versionField: Version;
  /** The code of an invalid body (`invalid_automation`), and of an edit of an older read (`automation_changed`). */
  invalidCode: ErrorCode;
  changedCode: ErrorCode;
}

/** The stored resource, as its view shows it. */
export type ReadOnlyStored<Version extends string> = { id: string; createdAt: string; updatedAt: string } & Record<Version, number>;

export interface ReadOnlyFields<Version extends string> {
  /** The resource changed (another write) since the client read it at `given`. */
  changed(stored: ReadOnlyStored<Version>, field: string, given: unknown): VantageError;
  /**
   * The body without its read-only fields, after checking each against the stored resource,
   * and the version it was read at (the write should make sure it is still current).
   */
  drop(body: unknown, stored: ReadOnlyStored<Version>): { definition: unknown; readVersion: number | undefined };
}

type Field = "id" | "version" | "createdAt" | "updatedAt";

export function defineReadOnlyFields<Version extends string>(options: ReadOnlyFieldsOptions<Version>): ReadOnlyFields<Version> {
  const { resource, versionField } = options;
  const title = resource.charAt(0).toUpperCase() + resource.slice(1);
  const schema = z.object({
    id: z.string().optional(),
    [versionField]: z.number().int().optional(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  });
  const keyOf: Record<Field, string> = { id: "id", version: versionField, createdAt: "createdAt", updatedAt: "updatedAt" };
  const invalid = (field: string, message: string) => invalidInput([issueAt([field], message)], { code: options.invalidCode });

  const changed: ReadOnlyFields<Version>["changed"] = (stored, field, given) =>
    new VantageError(
      "conflict",
      options.changedCode,
      `${title} ${stored.id} changed since it was read (${field} ${JSON.stringify(given)} was sent; it is now ${versionField} ${stored[versionField]}, updated ${stored.updatedAt}): GET it again and reapply the edit.`,
      { details: { [versionField]: stored[versionField], updatedAt: stored.updatedAt } },
    );

  /** Dispatch table: what a read-only field that does not match the stored resource means. */
  const mismatch: Record<Field, (stored: ReadOnlyStored<Version>, given: string | number) => VantageError> = {
    id: (stored, given) =>
      invalid("id", `is ${given}, but the URL names ${stored.id}: a PUT replaces the ${resource} its URL names, so leave id out or send its own`),
    createdAt: (stored) => invalid("createdAt", `is read-only: send ${stored.createdAt} or leave it out`),
    version: (stored, given) => changed(stored, versionField, given),
    updatedAt: (stored, given) => changed(stored, "updatedAt", given),
  };
  const matches = (field: Field, given: string | number, stored: ReadOnlyStored<Version>): boolean =>
    // Ids are uuids, equal in any case (as PostgreSQL compares them).
    field === "id" ? canonicalUuid(String(given)) === stored.id : given === stored[keyOf[field] as keyof ReadOnlyStored<Version>];

  return {
    changed,
    drop(body, stored) {
      if (body === null || typeof body !== "object" || Array.isArray(body)) return { definition: body, readVersion: undefined };
      const parsed = validateInput(schema, body, { root: `the ${resource}` });
      if (!parsed.ok) throw invalidInput(parsed.issues, { code: options.invalidCode });
      const given = parsed.value as Record<string, string | number | undefined>;
      const definition: Record<string, unknown> = { ...body };
      for (const field of Object.keys(keyOf) as Field[]) {
        const value = given[keyOf[field]];
        delete definition[keyOf[field]];
        if (value !== undefined && !matches(field, value, stored)) throw mismatch[field](stored, value);
      }
      return { definition, readVersion: given[versionField] as number | undefined };
    },
  };
}
