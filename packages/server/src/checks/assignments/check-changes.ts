// The notice every write of a check sends (`vantage_checks`, from the definitions store, in
// the write's transaction): the check's id and new revision, or that it was deleted. The
// assignment index of every core reloads that one check.
// (The definitions store, written alongside, exports this channel and payload from
// checks/index.ts too: once both are in, one of the two goes, so the contract is written once.)
import { uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import { parseNotice } from "../../cluster/index.ts";

export const CHECK_CHANGES_CHANNEL = "vantage_checks";

export const checkChangeNoticeSchema = z.object({
  id: uuidSchema(),
  revision: z.number().int().optional(),
  deleted: z.boolean().optional(),
});
export type CheckChangeNotice = z.infer<typeof checkChangeNoticeSchema>;

export function parseCheckChange(payload: string): CheckChangeNotice | null {
  return parseNotice(checkChangeNoticeSchema, payload);
}
