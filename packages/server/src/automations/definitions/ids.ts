// Ids in the automations module (automations, runs, notification channels named by a step)
// are PostgreSQL uuids, accepted in either case as PostgreSQL does: anything else names none.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);
