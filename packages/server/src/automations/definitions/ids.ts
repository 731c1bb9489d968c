// Ids in the automations module (automations, runs, notification channels named by a step)
// are PostgreSQL uuids: the one rule lives in storage.
export { isUuid } from "../../storage/index.ts";
