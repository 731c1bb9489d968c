// The notice every write of a check sends on `vantage_checks`, from the definitions store in the
// write's own statement (delivered when it commits): the check's id and new revision, and
// whether it was deleted (a delete announces the last revision plus one). Schedulers and the
// assignment index of every core read it here, so the contract is written once.
import { uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import { parseNotice } from "../../cluster/index.ts";

/** NOTIFY channel: a check was created, changed (replace, patch, enable, disable) or deleted. */
export const CHECKS_CHANNEL = "vantage_checks";

/** Read the check again (or drop it, when deleted) unless the revision is already known. */
export const checkChangeNoticeSchema = z.object({
  id: uuidSchema(),
  revision: z.number().int(),
  deleted: z.literal(true).optional(),
});
export type CheckChangeNotice = z.infer<typeof checkChangeNoticeSchema>;

/** The notice in a payload, or null when it is not one (logged by parseNotice's caller). */
export function parseCheckChange(payload: string): CheckChangeNotice | null {
  return parseNotice(checkChangeNoticeSchema, payload);
}
