// The secrets of a check: an http check's credential-like headers (Authorization, Cookie,
// X-Api-Key, names with token/secret/password …, by the outbound client's one rule). Sealed in
// the stored definition, `<redacted>` in every answer, kept when a PUT or PATCH sends
// `<redacted>` back, opened only for the probe that sends them.
import { defineSealedFields, type SecretFieldMap, type SecretValue } from "../../crypto/index.ts";
import { isCredentialHeader } from "../../outbound/index.ts";

/** `headers.<name>` of each credential header of an http check; other types have no secrets. */
const mapHeaderSecrets: SecretFieldMap = (definition, visit) => {
  // Typed as strings; in stored JSON they are SealedSecrets (hence the casts).
  const check = definition as { type?: unknown; headers?: Record<string, SecretValue> };
  // Without a credential header there is nothing to visit: the definition as it is, not a copy
  // (the core opens a definition for every run it starts).
  if (check.type !== "http" || check.headers === undefined || !Object.keys(check.headers).some(isCredentialHeader)) return definition;
  const headers = Object.fromEntries(
    Object.entries(check.headers).map(([name, value]) => [name, isCredentialHeader(name) ? visit(value, `headers.${name}`) : value]),
  );
  return { ...check, headers } as typeof definition;
};

// The check and the header are the associated data: a sealed value copied to another check or header does not open there.
export const checkSecrets = defineSealedFields("check-header", mapHeaderSecrets);
