// Starts the live events and change history in a core: the process's one change stream (the
// outbox follower every SSE client hangs off) and the routes /events, /entities, /changes.
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import { type ChangeStream, type ChangeStreamOptions, createChangeStream } from "./change-stream.ts";
import { createEventMetrics } from "./event-metrics.ts";
import { createEventRoutes } from "./event-routes.ts";
import { createHistoryRoutes } from "./history-routes.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export interface EventsOptions extends Pick<
  ChangeStreamOptions,
  "heartbeatIntervalMs" | "pollIntervalMs" | "pageSize" | "maxPendingWhileCatchingUp" | "flushIntervalMs" | "observer"
> {
  /** Frames that may wait for one client before it is cut off (default 1,000). */
  maxQueuedFrames?: number;
}

export interface EventsModule extends CoreModule {
  /** Hands the core the stop that ends open streams; call once HTTP serves (they stop before it). */
  serve(): Promise<void>;
  stream: ChangeStream;
}

export async function startEvents(deps: ModuleDeps, options: EventsOptions = {}): Promise<EventsModule> {
  const { pool, hub, logger } = deps;
  const maxQueuedFrames = options.maxQueuedFrames ?? 1_000;
  // A catch-up waits for room for a whole page in the client's queue: a page must fit in it.
  const pageSize = Math.min(options.pageSize ?? 500, maxQueuedFrames);
  const stream = createChangeStream({ pool, hub, logger, ...options, pageSize });
  await stream.start();
  deps.onStop("change stream", stream.stop);
  const metrics = createEventMetrics(deps.metrics, stream.size);
  const kinds = () => deps.entities.kinds().keys();
  const history = createHistoryRoutes({ pool, kinds });
  return {
    routes: {
      "/events": createEventRoutes({ pool, stream, kinds, maxQueuedFrames, metrics }),
      "/entities": history.entities,
      "/changes": history.changes,
    },
    // Open streams would hold the HTTP server's close: end them first (this stop runs before HTTP's).
    serve: async () => deps.onStop("event streams", stream.stop),
    stream,
  };
}
