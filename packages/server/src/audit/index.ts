// The audit trail of the API's resources: recorded by each store in its write's transaction,
// read by `GET /:id/history` on each resource's routes.
export { AUDITED_KINDS, changedFieldsOf, recordResourceChange, SYSTEM_WRITE } from "./resource-changes.ts";
export type { AuditedKind, ResourceAction, ResourceChange, WriteContext } from "./resource-changes.ts";
export { requestWriteContext } from "./request-context.ts";
export { addHistoryRoute, resourceHistory, resourceChangeSchema } from "./resource-history.ts";
export type { ResourceChangeView } from "./resource-history.ts";
