// PostgreSQL error codes (SQLSTATE) the core reacts to, in one table, so modules ask
// "was this a unique violation?" instead of repeating magic strings.
export const PostgresError = {
  uniqueViolation: "23505",
  checkViolation: "23514",
  duplicateDatabase: "42P04",
  // Data exceptions (class 22): PostgreSQL refused a value, not the statement.
  stringDataRightTruncation: "22001",
  numericValueOutOfRange: "22003",
  invalidDatetimeFormat: "22007",
  datetimeFieldOverflow: "22008",
  characterNotInRepertoire: "22021",
  invalidTextRepresentation: "22P02",
  untranslatableCharacter: "22P05",
} as const;

/**
 * The codes of a value PostgreSQL cannot hold (a NUL in text, an unpaired surrogate in jsonb,
 * "abc" as a uuid, a number out of range): when one reaches it from a request, the request
 * was bad input that the edge let through, never a fault of the core.
 */
const REFUSED_VALUES: ReadonlySet<string> = new Set([
  PostgresError.stringDataRightTruncation,
  PostgresError.numericValueOutOfRange,
  PostgresError.invalidDatetimeFormat,
  PostgresError.datetimeFieldOverflow,
  PostgresError.characterNotInRepertoire,
  PostgresError.invalidTextRepresentation,
  PostgresError.untranslatableCharacter,
]);

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === PostgresError.uniqueViolation;
}

/** Whether PostgreSQL refused one of the statement's values as its type cannot hold it. */
export function isRefusedValue(error: unknown): boolean {
  return REFUSED_VALUES.has(sqlState(error) ?? "");
}
