// The read-only fields of an automation as the API shows it (id, version, createdAt,
// updatedAt): a GET → edit → PUT sends them back. Matching ones are dropped; a mismatch says why.
import { defineReadOnlyFields } from "../../http/index.ts";

const automationReadOnlyFields = defineReadOnlyFields({
  resource: "automation",
  versionField: "version",
  invalidCode: "invalid_automation",
  changedCode: "automation_changed",
});

/** An automation changed (another PUT, or enable/disable) since the client read it. */
export const automationChanged = automationReadOnlyFields.changed;

/**
 * The definition without its read-only fields, after checking each against the stored
 * automation, and the version it was read at (the replace makes sure it is still current).
 */
export const dropReadOnlyFields = automationReadOnlyFields.drop;
