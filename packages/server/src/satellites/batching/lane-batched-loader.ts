// Group commit for the gateway's per-socket database work (connect and close edges, hello
// credentials): a batch opens with its first member and is sent once its window passed and
// one of a few lanes is free; everything that arrives meanwhile rides along.
//
// Why lanes and not "send when the window closes": under load a batch's statements cost more
// than its rows (each statement is a socket write and a wake-up of a backend, several ms on
// a busy 2-CPU machine). Batches sent on every free lane stay tiny (bench/satellite-fleet saw
// 2–3 connects per transaction with four lanes), so a storm paid a transaction per couple of
// satellites; with one lane the next batch is everything that arrived while the previous one
// ran (about ten times larger there), and a member waits at most for one batch ahead of it.
import DataLoader from "dataloader";

export interface LaneBatching {
  /** Batches in flight at once. */
  lanes: number;
  /** Members of one batch at most: a larger burst is split. */
  maxBatch: number;
  /** Calls `ready` once the batch opened now may be sent (its window). */
  window(ready: () => void): void;
}

/**
 * A DataLoader (nothing cached: every load is a member of its own) whose batches wait for a
 * free lane. A batch that fails fails each of its members; an Error in the batch's answer is
 * that member's alone.
 */
export function laneBatchedLoader<Key, Value>(
  run: (keys: readonly Key[]) => Promise<ReadonlyArray<Value | Error>>,
  batching: LaneBatching,
): DataLoader<Key, Value> {
  let inFlight = 0;
  const ready: Array<() => void> = [];
  const pump = () => {
    while (inFlight < batching.lanes && ready.length > 0) ready.shift()!();
  };
  return new DataLoader<Key, Value>(
    (keys) => {
      // DataLoader calls this synchronously from dispatch: the lane taken below is this batch's.
      const batch = run(keys);
      void batch
        .catch(() => undefined)
        .finally(() => {
          inFlight -= 1;
          pump();
        });
      return batch;
    },
    {
      cache: false,
      maxBatchSize: batching.maxBatch,
      batchScheduleFn: (dispatch) =>
        batching.window(() => {
          ready.push(() => {
            inFlight += 1;
            dispatch();
          });
          pump();
        }),
    },
  );
}
