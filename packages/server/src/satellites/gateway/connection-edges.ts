// Coalesces the connect and close edges of this process's satellite sockets, as the heartbeat
// buffer coalesces heartbeats: a reconnect storm costs a few transactions, not two per satellite.
import DataLoader from "dataloader";
import type { ConnectionMutation, ConnectionOutcome, MarkConnectedInput, MarkDisconnectedInput, SatelliteService } from "../service.ts";

/** How long a batch waits for company once the previous one of its kind committed. */
export const EDGE_BATCH_WINDOW_MS = 2;
/** Satellites in one transaction at most: a larger storm is split, the parts run side by side. */
export const MAX_EDGE_BATCH = 1000;

export interface ConnectionEdgesOptions {
  windowMs?: number;
  maxBatch?: number;
}

/** One socket's edges; each resolves once its transaction committed, or rejects for it alone. */
export interface ConnectionEdges {
  connected(input: MarkConnectedInput): Promise<ConnectionMutation>;
  disconnected(input: MarkDisconnectedInput): Promise<ConnectionMutation>;
}

export type EdgeRecorder = Pick<SatelliteService, "markConnectedMany" | "markDisconnectedMany">;

export function createConnectionEdges(satellites: EdgeRecorder, options: ConnectionEdgesOptions = {}): ConnectionEdges {
  const windowMs = options.windowMs ?? EDGE_BATCH_WINDOW_MS;
  const maxBatch = options.maxBatch ?? MAX_EDGE_BATCH;
  return {
    connected: coalesce((inputs: readonly MarkConnectedInput[]) => satellites.markConnectedMany(inputs), windowMs, maxBatch),
    disconnected: coalesce((inputs: readonly MarkDisconnectedInput[]) => satellites.markDisconnectedMany(inputs), windowMs, maxBatch),
  };
}

/**
 * Group commit: a batch is sent `windowMs` after the previous one of its kind settled, and
 * everything that arrived meanwhile rides along, so batches grow with the load and a lone
 * connect waits only the window. A batch that fails fails each of its members (each
 * satellite retries); a member's own error (a satellite deleted meanwhile) is its alone.
 */
function coalesce<Input>(record: (inputs: readonly Input[]) => Promise<ConnectionOutcome[]>, windowMs: number, maxBatch: number) {
  let previous: Promise<unknown> = Promise.resolve();
  const loader = new DataLoader<Input, ConnectionMutation>(
    (inputs) => {
      const batch = record(inputs);
      previous = batch.catch(() => undefined);
      return batch;
    },
    {
      // Every input is an edge of its own: nothing is cached or merged by key.
      cache: false,
      maxBatchSize: maxBatch,
      batchScheduleFn: (dispatch) => void previous.then(() => setTimeout(dispatch, windowMs)),
    },
  );
  return (input: Input) => loader.load(input);
}
