// PostgreSQL error codes (SQLSTATE) the core reacts to, in one table, so modules ask
// "was this a unique violation?" instead of repeating magic strings.
export const PostgresError = {
  uniqueViolation: "23505",
  checkViolation: "23514",
  duplicateDatabase: "42P04",
} as const;

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === PostgresError.uniqueViolation;
}
