// `entity(kind, id)` for one evaluation (a change's decisions, a run's templates): current
// state through the entity registry, each (kind, id) read once.
import type { EntityRegistry } from "../../entities/index.ts";
import type { EvaluationContext } from "../expressions/index.ts";

export function entityReader(entities: Pick<EntityRegistry, "entity">): EvaluationContext["entity"] {
  const cache = new Map<string, Promise<Readonly<Record<string, unknown>> | null>>();
  return (kind, id) => {
    const key = JSON.stringify([kind, id]);
    let state = cache.get(key);
    if (!state) {
      const handle = entities.entity(kind);
      state = handle ? handle.get(id) : Promise.resolve(null);
      cache.set(key, state);
    }
    return state;
  };
}
