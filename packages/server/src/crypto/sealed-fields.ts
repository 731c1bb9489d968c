// Secret fields inside stored documents (an automation's webhook secrets, an http check's
// credential headers): sealed in place with the SecretBox, shown as `<redacted>`, and kept when
// a document comes back with `<redacted>`. Each owner says where its secret fields are; what
// happens to them is decided here, once.
import type { Issue } from "@vantage/protocol";
import type { SecretBox } from "./secret-box.ts";

/** What the API shows in place of a secret, and what a client sends back to keep it. */
export const REDACTED = "<redacted>";

/**
 * A secret as stored JSON holds it: `{ "sealed": "v1:…" }` in place of the string. An object,
 * so a sealed value can never be mistaken for (and used as) the secret: a document read
 * without opening fails its schema instead of sending the wrong value.
 */
export interface SealedSecret {
  sealed: string;
}

/** A secret field's value: a string, or a SealedSecret in stored JSON. */
export type SecretValue = string | SealedSecret;

/**
 * A copy of `document` with every secret field replaced by `visit(value, fieldPath)` (left
 * out where it returns undefined). The field path (e.g. `headers.Authorization`) names the
 * field stably within the document: the sealed value is bound to it.
 */
export type SecretFieldMap = <T>(document: T, visit: (value: SecretValue, fieldPath: string) => SecretValue | undefined) => T;

export interface SealedFields {
  /** The document with every secret shown as `<redacted>`: needs no key. */
  redact<T>(document: T): T;
  /**
   * Puts back the stored value (sealed or plain) wherever `incoming` says `<redacted>`; a
   * `<redacted>` where nothing is stored (or on a new document) is an issue at its path.
   */
  restore<T>(incoming: T, stored: unknown): { document: T; issues: Issue[] };
  /** The document as it is stored: every secret still a string sealed for `ownerId` and its field. */
  seal<T>(document: T, box: SecretBox, ownerId: string): T;
  /**
   * The stored document with its secrets opened, for use. Throws the box's VantageError when
   * the key differs or is missing. A plain string (stored before sealing existed) is kept.
   */
  open<T>(document: T, box: SecretBox, ownerId: string): T;
}

/**
 * The sealing rules of one kind of document. `purpose` names the kind in the associated data
 * (`<purpose>:<ownerId>:<fieldPath>`), so a sealed value copied to another document, field or
 * kind does not open there.
 */
export function defineSealedFields(purpose: string, map: SecretFieldMap): SealedFields {
  const context = (ownerId: string, fieldPath: string) => `${purpose}:${ownerId}:${fieldPath}`;
  return {
    redact: (document) => map(document, () => REDACTED),
    restore(incoming, stored) {
      const storedValues = new Map<string, SecretValue>();
      if (stored) {
        map(stored, (value, fieldPath) => {
          storedValues.set(fieldPath, value);
          return value;
        });
      }
      const issues: Issue[] = [];
      const document = map(incoming, (value, fieldPath) => {
        if (value !== REDACTED) return value;
        const kept = storedValues.get(fieldPath);
        if (kept === undefined)
          issues.push({ path: fieldPath, message: `"${REDACTED}" stands for a stored secret, and none is stored here; send the value itself` });
        return kept;
      });
      return { document, issues };
    },
    seal: (document, box, ownerId) =>
      map(document, (value, fieldPath) => (typeof value === "string" ? { sealed: box.seal(value, context(ownerId, fieldPath)) } : value)),
    open: (document, box, ownerId) =>
      map(document, (value, fieldPath) => (typeof value === "string" ? value : box.open(value.sealed, context(ownerId, fieldPath)))),
  };
}
