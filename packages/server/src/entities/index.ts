// Reactive entities: defining kinds, recording changes with history in one transaction,
// deriving trigger events, routing the outbox to sinks, and the live feed.
export { createEntityRegistry } from "./registry.ts";
export type { EntityRegistry } from "./registry.ts";
export { createEntityRouter } from "./router.ts";
export type { EntityRouter, EntityRouterOptions, RouterObserver } from "./router.ts";
export { createLiveFeed } from "./live-feed.ts";
export { ENTITY_CHANGES_CHANNEL } from "./change-notifier.ts";
export type { LiveFeed, LiveChangeHandler } from "./live-feed.ts";
export { canonicalJson, canonicalize, diffStates } from "./diff.ts";
export type { StateDiff } from "./diff.ts";
export type * from "./types.ts";
