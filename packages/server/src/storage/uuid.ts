// Ids of the core's rows are PostgreSQL uuids, accepted in either case as PostgreSQL does:
// anything else names no row, and is answered "not found" before it could reach a query
// (where PostgreSQL would refuse it as malformed).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);
