// The query parameters the events and history routes share: a kind filter checked against the
// kinds defined on this core, positions (seqs) and page sizes.
import { issueAt } from "@vantage/protocol";
import { z } from "zod";
import { invalidInput } from "../errors.ts";

export const DEFAULT_CHANGE_PAGE = 100;
export const MAX_CHANGE_PAGE = 1_000;

/** A change's position as clients see it: its outbox seq, a whole number (0: before everything). */
export const seqSchema = z
  .string()
  .regex(/^\d{1,15}$/, "must be a change's seq: a whole number")
  .transform(Number);

export const limitSchema = z.coerce.number().int().min(1).max(MAX_CHANGE_PAGE).default(DEFAULT_CHANGE_PAGE);

/**
 * `kind=a,b` as a set, or null when absent (every kind). A kind this core does not define is
 * refused with the list of those it does: a typo must not look like a quiet stream.
 */
export function parseKinds(raw: string | undefined, known: Iterable<string>): Set<string> | null {
  if (raw === undefined) return null;
  const kinds = raw
    .split(",")
    .map((kind) => kind.trim())
    .filter((kind) => kind !== "");
  const knownKinds = [...known];
  const unknown = kinds.filter((kind) => !knownKinds.includes(kind));
  if (kinds.length === 0 || unknown.length > 0) {
    const what =
      kinds.length === 0 ? "names no kind" : `names unknown ${unknown.length === 1 ? "kind" : "kinds"} ${unknown.map((kind) => `"${kind}"`).join(", ")}`;
    throw invalidInput([issueAt(["kind"], `kind ${what}; known kinds: ${knownKinds.join(", ") || "(none)"}`)], { code: "invalid_query" });
  }
  return new Set(kinds);
}
