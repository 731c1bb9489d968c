// PostgreSQL array literals (`{a,b,NULL}`) built in one join, for columns of a bulk statement.
// pg serialises a JS array element by element (prepare, escape, quote each one); a batch of
// ingest sends nine columns of 1,000 rows, and that per-element work showed in its profile.
// Elements made only of characters that are never special in an array literal (uuids, epoch
// numbers, short codes) go bare; anything else is quoted and escaped as pg would.

const BARE = /^[A-Za-z0-9_.:+-]+$/;

/** Whether `value` could be read back as something else when left unquoted. */
const needsQuotes = (value: string) => !BARE.test(value) || (value.length === 4 && value.toUpperCase() === "NULL");

const quote = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** A literal of text-like elements (text, uuid, timestamptz…): the caller casts it, e.g. `$1::uuid[]`. */
export function textArrayLiteral(values: ReadonlyArray<string | null | undefined>): string {
  return `{${values.map((value) => (value == null ? "NULL" : needsQuotes(value) ? quote(value) : value)).join(",")}}`;
}

/** A literal of finite numbers (or nulls), e.g. for `$1::integer[]` or `$1::float8[]`. */
export function numberArrayLiteral(values: ReadonlyArray<number | null | undefined>): string {
  return `{${values
    .map((value) => {
      if (value == null) return "NULL";
      if (!Number.isFinite(value)) throw new RangeError(`Not a finite number for an array literal: ${value}`);
      return String(value);
    })
    .join(",")}}`;
}
