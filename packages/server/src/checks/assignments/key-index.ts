// A multimap from keys to the items filed under them, for candidate lookups: the items that
// share a key with a query. Each item's keys are remembered, so it can be refiled or removed.
export class KeyIndex<Item> {
  private readonly byKey = new Map<string, Set<Item>>();
  private readonly keysOf = new Map<Item, readonly string[]>();

  /** Files `item` under `keys` (and no longer under the keys it had). */
  set(item: Item, keys: readonly string[]): void {
    this.delete(item);
    this.keysOf.set(item, keys);
    for (const key of keys) {
      let items = this.byKey.get(key);
      if (!items) this.byKey.set(key, (items = new Set()));
      items.add(item);
    }
  }

  delete(item: Item): void {
    const keys = this.keysOf.get(item);
    if (!keys) return;
    this.keysOf.delete(item);
    for (const key of keys) {
      const items = this.byKey.get(key)!;
      items.delete(item);
      if (items.size === 0) this.byKey.delete(key);
    }
  }

  /** Adds to `into` every item filed under any of `keys`. */
  collect(keys: Iterable<string>, into: Set<Item>): Set<Item> {
    for (const key of keys) for (const item of this.byKey.get(key) ?? []) into.add(item);
    return into;
  }

  get size(): number {
    return this.keysOf.size;
  }
}
