// Coalesces the connect and close edges of this process's satellite sockets, as the heartbeat
// buffer coalesces heartbeats: a reconnect storm costs a few transactions, not two per satellite.
import DataLoader from "dataloader";
import type { ConnectionMutation, ConnectionOutcome, MarkConnectedInput, MarkDisconnectedInput, SatelliteService } from "../connection/service.ts";

/** How long a batch stays open for company before it is sent. */
export const EDGE_BATCH_WINDOW_MS = 2;
/** Satellites in one transaction at most: a larger storm is split. */
export const MAX_EDGE_BATCH = 1000;
/**
 * Batches of one kind in flight at once, each holding a pooled connection: a slow batch (a
 * cold connection, a lock wait) does not hold up every other connect, and a storm still
 * leaves most of the pool to the rest of the core.
 */
export const EDGE_BATCH_LANES = 4;

export interface ConnectionEdgesOptions {
  windowMs?: number;
  maxBatch?: number;
  lanes?: number;
}

/** One socket's edges; each resolves once its transaction committed, or rejects for it alone. */
export interface ConnectionEdges {
  connected(input: MarkConnectedInput): Promise<ConnectionMutation>;
  disconnected(input: MarkDisconnectedInput): Promise<ConnectionMutation>;
}

export type EdgeRecorder = Pick<SatelliteService, "markConnectedMany" | "markDisconnectedMany">;

export function createConnectionEdges(satellites: EdgeRecorder, options: ConnectionEdgesOptions = {}): ConnectionEdges {
  const batching = {
    windowMs: options.windowMs ?? EDGE_BATCH_WINDOW_MS,
    maxBatch: options.maxBatch ?? MAX_EDGE_BATCH,
    lanes: options.lanes ?? EDGE_BATCH_LANES,
  };
  return {
    connected: coalesce((inputs: readonly MarkConnectedInput[]) => satellites.markConnectedMany(inputs), batching),
    disconnected: coalesce((inputs: readonly MarkDisconnectedInput[]) => satellites.markDisconnectedMany(inputs), batching),
  };
}

/**
 * Group commit: a batch is sent `windowMs` after its first member arrived, or later when all
 * lanes are busy, and everything that arrives until then rides along, so batches grow with the
 * load and a lone connect waits only the window. A batch that fails fails each of its members
 * (each satellite retries); a member's own error (a satellite deleted meanwhile) is its alone.
 */
function coalesce<Input>(record: (inputs: readonly Input[]) => Promise<ConnectionOutcome[]>, batching: Required<ConnectionEdgesOptions>) {
  let inFlight = 0;
  const ready: Array<() => void> = [];
  const pump = () => {
    while (inFlight < batching.lanes && ready.length > 0) ready.shift()!();
  };
  const loader = new DataLoader<Input, ConnectionMutation>(
    (inputs) => {
      // DataLoader calls this synchronously from dispatch: the lane taken below is this batch's.
      const batch = record(inputs);
      void batch
        .catch(() => undefined)
        .finally(() => {
          inFlight -= 1;
          pump();
        });
      return batch;
    },
    {
      // Every input is an edge of its own: nothing is cached or merged by key.
      cache: false,
      maxBatchSize: batching.maxBatch,
      batchScheduleFn: (dispatch) => {
        setTimeout(() => {
          ready.push(() => {
            inFlight += 1;
            dispatch();
          });
          pump();
        }, batching.windowMs);
      },
    },
  );
  return (input: Input) => loader.load(input);
}
