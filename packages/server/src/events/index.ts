// Live events and change history: GET /api/v1/events (server-sent entity changes, resumable with
// Last-Event-ID) fed by one outbox follower per core, and the history reads behind
// /api/v1/entities/:kind/:id/changes and /api/v1/changes. A core starts it with startEvents.
export { startEvents } from "./start.ts";
export type { EventsModule, EventsOptions } from "./start.ts";
export type { ChangeStream } from "./change-stream.ts";
