// Runs one lifecycle edge for many satellites a few at a time: a mass outage or a mass
// recovery (a network partition ending) must not take one commit round trip per satellite
// in a row, nor every pooled connection at once.

/** Edges one batch runs at once; each holds a pooled connection for its transaction. */
export const MARK_CONCURRENCY = 8;

/**
 * Calls `mark` for every id, at most `concurrency` at a time, and returns the ids it
 * answered true for (the edge was recorded), in input order. `mark` must not throw.
 */
export async function markEach(ids: readonly string[], mark: (id: string) => Promise<boolean>, concurrency = MARK_CONCURRENCY): Promise<string[]> {
  const recorded: string[] = [];
  for (let start = 0; start < ids.length; start += concurrency) {
    const slice = ids.slice(start, start + concurrency);
    const outcomes = await Promise.all(slice.map(mark));
    slice.forEach((id, index) => outcomes[index] && recorded.push(id));
  }
  return recorded;
}
