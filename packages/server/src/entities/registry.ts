// The entity registry of one core instance: the kinds defined on it (with their state
// schemas, which automations compile against) and their change derivers. Per instance (not
// global) so two instances can live in one process.
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { entityKindProblem } from "../storage/index.ts";
import { type ChangeDerivers, createChangeDerivers } from "./change-derivers.ts";
import type { NotificationHub } from "../cluster/index.ts";
import { createChangeNotifier, ENTITY_CHANGES_CHANNEL, notifyThroughPool } from "./outbox/change-notifier.ts";
import { defineEntityHandle } from "./define-entity.ts";
import type { ChangeDeriverRegistration, EntityDefinition, EntityHandle } from "./types.ts";

export interface EntityRegistry extends Omit<ChangeDerivers, "register"> {
  defineEntity<Schema extends z.ZodObject>(definition: EntityDefinition<Schema>): EntityHandle<z.infer<Schema>>;
  registerChangeDeriver(registration: ChangeDeriverRegistration): () => void;
  /** The handle of a defined kind, or undefined. */
  entity(kind: string): EntityHandle<Record<string, unknown>> | undefined;
  /**
   * Every kind defined so far with its state schema, in the order defined: a live view that
   * only grows (a kind is never removed), so its size tells a reader whether anything is new.
   */
  kinds(): ReadonlyMap<string, z.ZodObject>;
  /** Waits until every committed change has been announced (call before ending the pool). */
  flush(): Promise<void>;
}

export interface EntityRegistryOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Where change announcements go out (a core: its notification hub's connection); the pool when absent. */
  hub?: Pick<NotificationHub, "notify">;
}

export function createEntityRegistry(options: EntityRegistryOptions): EntityRegistry {
  const handles = new Map<string, EntityHandle<Record<string, unknown>>>();
  const schemas = new Map<string, z.ZodObject>();
  const derivers = createChangeDerivers(options.logger);
  const { hub } = options;
  const notifier = createChangeNotifier(hub ? (payload) => hub.notify(ENTITY_CHANGES_CHANNEL, payload) : notifyThroughPool(options.pool), options.logger);

  return {
    defineEntity(definition) {
      const { kind, schema } = definition;
      const kindProblem = typeof kind === "string" ? entityKindProblem(kind) : "An entity kind must be a non-empty string.";
      if (kindProblem) {
        throw new VantageError("invalid_input", "invalid_entity_kind", kindProblem);
      }
      if (handles.has(kind)) {
        throw new VantageError("conflict", "entity_kind_exists", `Entity kind "${kind}" is already defined.`);
      }
      if (!(schema instanceof z.ZodObject)) {
        throw new VantageError("invalid_input", "entity_schema_not_object", `Entity kind "${kind}" needs a zod object schema (z.object(...)).`);
      }
      const handle = defineEntityHandle(options.pool, notifier, definition);
      handles.set(kind, handle as EntityHandle<Record<string, unknown>>);
      schemas.set(kind, schema);
      return handle;
    },
    registerChangeDeriver: (registration) => derivers.register(registration),
    deriveEvents: (change) => derivers.deriveEvents(change),
    toPayload: (change) => derivers.toPayload(change),
    kindsEmitting: (eventIds) => derivers.kindsEmitting(eventIds),
    entity: (kind) => handles.get(kind),
    kinds: () => schemas,
    flush: () => notifier.flush(),
  };
}
