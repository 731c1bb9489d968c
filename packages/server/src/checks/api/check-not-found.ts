// The one answer for an id that names no check, whichever checks route was asked.
import { VantageError } from "../../errors.ts";

export const checkNotFound = (id: string): VantageError => new VantageError("not_found", "check_not_found", `No check has the id ${JSON.stringify(id)}.`);
