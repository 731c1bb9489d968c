// A request's headers as a plain record by lower-case name: what node:http sends as it is.
// Built once per exchange; undici's Headers cost a validation, a sort and two copies per
// request, and node:http validates every name and value itself before anything is sent.

/** Header values by lower-case name. */
export type RequestHeaders = Record<string, string>;

/**
 * The caller's headers by lower-case name, with `userAgent` unless they set their own. A name
 * given twice in different cases is sent once, its values joined with ", " (as fetch joins
 * them); values are trimmed of surrounding whitespace, as fetch trims them.
 */
export function requestHeaders(given: Record<string, string> | undefined, userAgent: string): RequestHeaders {
  // No prototype: a header named `__proto__` or `constructor` is a header like any other.
  const headers = Object.create(null) as RequestHeaders;
  if (given !== undefined) {
    for (const name of Object.keys(given)) {
      const key = name.toLowerCase();
      const value = String(given[name]).trim();
      headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
    }
  }
  headers["user-agent"] ??= userAgent;
  return headers;
}

/** A copy without the names `drop` says to drop. */
export function withoutHeaders(headers: RequestHeaders, drop: (name: string) => boolean): RequestHeaders {
  const kept = Object.create(null) as RequestHeaders;
  for (const name of Object.keys(headers)) if (!drop(name)) kept[name] = headers[name]!;
  return kept;
}
