// Coalesces the connect and close edges of this process's satellite sockets, as the heartbeat
// buffer coalesces heartbeats: a reconnect storm costs a few transactions, not two per satellite.
import { laneBatchedLoader } from "../batching/lane-batched-loader.ts";
import type {
  ConnectedMutation,
  ConnectionMutation,
  MarkConnectedInput,
  MarkDisconnectedInput,
  SatelliteService,
  TokenRefused,
} from "../connection/service.ts";
import type { VantageError } from "../../errors.ts";

/** How long a batch stays open for company before it is sent. */
export const EDGE_BATCH_WINDOW_MS = 2;
/** Satellites in one transaction at most: a larger storm is split. */
export const MAX_EDGE_BATCH = 1000;
/**
 * Batches of one kind in flight at once. One: the next batch is every edge that arrived while
 * the previous one ran (group commit). With four, a storm's batches stayed at 2–3 satellites
 * and their statements, not the rows, were the cost of a connect (bench/satellite-fleet).
 */
export const EDGE_BATCH_LANES = 1;

/** Tries of one batch when PostgreSQL chose it as a deadlock's victim. */
export const EDGE_BATCH_TRIES = 3;

/** SQLSTATE deadlock_detected: the transaction was rolled back whole, so trying again is safe. */
const DEADLOCK_DETECTED = "40P01";

export interface ConnectionEdgesOptions {
  windowMs?: number;
  maxBatch?: number;
  lanes?: number;
}

/** One socket's edges; each resolves once its transaction committed, or rejects for it alone. */
export interface ConnectionEdges {
  /** With `tokenHash`, resolves with `tokenRefused` when it is not the satellite's (nothing recorded). */
  connected(input: MarkConnectedInput): Promise<ConnectedMutation | TokenRefused>;
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
 * A batch is sent `windowMs` after its first member arrived, or later while the lane is busy,
 * so batches grow with the load and a lone connect waits only the window (see
 * lane-batched-loader.ts). A batch that fails fails each of its members (each satellite
 * retries); a member's own error (a satellite deleted meanwhile) is its alone.
 */
function coalesce<Input, Output>(record: (inputs: readonly Input[]) => Promise<Array<Output | VantageError>>, batching: Required<ConnectionEdgesOptions>) {
  const loader = laneBatchedLoader<Input, Output>((inputs) => retryingDeadlocks(() => record(inputs)), {
    lanes: batching.lanes,
    maxBatch: batching.maxBatch,
    window: (ready) => setTimeout(ready, batching.windowMs),
  });
  return (input: Input) => loader.load(input);
}

/**
 * A batch's rows are locked in the order its plan visits them, and the heartbeat flush locks
 * rows of the same table in its own order, so PostgreSQL may break a deadlock between them by
 * rolling the batch back. A close is not retried by anyone else (its satellite is gone, and
 * the monitor would record heartbeat_lost instead of the disconnect): try the batch again.
 */
async function retryingDeadlocks<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= EDGE_BATCH_TRIES || (error as { code?: unknown }).code !== DEADLOCK_DETECTED) throw error;
    }
  }
}
