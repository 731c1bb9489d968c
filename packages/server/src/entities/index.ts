// Reactive entities: defining kinds, recording changes with history in one transaction,
// deriving trigger events, routing the outbox to sinks, and the live feed.
export { createEntityRegistry } from "./registry.ts";
export type { EntityRegistry } from "./registry.ts";
export { createEntityRouter } from "./outbox/router.ts";
export type { EntityRouter, RouterObserver } from "./outbox/router.ts";
export { createLiveFeed } from "./outbox/live-feed.ts";
export type { LiveFeed } from "./outbox/live-feed.ts";
export { canonicalJson } from "./diff.ts";
export { CHANGE_COLUMNS, changeFromRow, OUTBOX_HELD_BACK } from "./outbox/change-row.ts";
export type { ChangeRow, StoredChange } from "./outbox/change-row.ts";
export { createChangeNotifier, ENTITY_CHANGES_CHANNEL, notifyThroughPool } from "./outbox/change-notifier.ts";
export type {
  BatchOutcome,
  ChangeSink,
  DeliverOptions,
  EntityHandle,
  EntityRead,
  MutateResult,
  PrepareOptions,
  RoutedChange,
  SinkDelivery,
  SqlClient,
} from "./types.ts";
export { isPipelined, setPipelined, settledInOrder, withPipelinedTransaction } from "./pipelined-transaction.ts";
export type { PipelinedTransaction } from "./pipelined-transaction.ts";
// The automation executor sends a run's records pipelined on the connection that holds its lock.
export type { SqlStatement } from "./types.ts";
export { statementName } from "./prepared-statements.ts";
export { StatementBatch } from "./statement-batch.ts";
