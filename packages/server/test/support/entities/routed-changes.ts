// Collects what entity routers deliver, so a test can await "these events were routed
// for this entity" instead of sleeping.
import type { EntityRouter, RoutedChange } from "../../../src/entities/index.ts";
import { createSignal, waitFor } from "../instance.ts";

export interface RoutedChanges {
  routed: RoutedChange[];
  /** Collects from one more router too (a core instance started later). */
  watch(router: EntityRouter): void;
  /** The event ids routed for one entity, in delivery order. */
  eventsOf(entityId: string): string[];
  /** Resolves with eventsOf(entityId) once it holds at least `count` events. */
  events(entityId: string, count: number, timeoutMs?: number): Promise<string[]>;
  /** Resolves once the last event routed for the entity is `eventId`. */
  lastIs(entityId: string, eventId: string, timeoutMs?: number): Promise<void>;
}

/** Adds one collecting sink to each router (of instances sharing one outbox: only the active one delivers). */
export function collectRouted(...routers: EntityRouter[]): RoutedChanges {
  const routed: RoutedChange[] = [];
  const arrived = createSignal();
  const watch = (router: EntityRouter) => {
    router.addSink({
      name: "collect",
      deliver: async (batch) => {
        routed.push(...batch);
        arrived.emit();
      },
    });
  };
  routers.forEach(watch);
  const eventsOf = (entityId: string) => routed.filter((r) => r.change.id === entityId).flatMap((r) => r.eventIds);
  return {
    routed,
    watch,
    eventsOf,
    async events(entityId, count, timeoutMs = 10_000) {
      await waitFor(() => eventsOf(entityId).length >= count, arrived.subscribe, timeoutMs, `${count} routed events of ${entityId}`);
      return eventsOf(entityId);
    },
    lastIs: (entityId, eventId, timeoutMs = 10_000) =>
      waitFor(() => eventsOf(entityId).at(-1) === eventId, arrived.subscribe, timeoutMs, `${eventId} as the last routed event of ${entityId}`),
  };
}
