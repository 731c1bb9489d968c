// Per-kind derivers (change → trigger event ids) and payload mappers (change → trigger
// payload). Derivers are united per kind; a throwing one is logged and skipped.
import type { EntityChanged } from "@vantage/protocol";
import { VantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ChangeDeriver, ChangeDeriverRegistration, PayloadMapper } from "./types.ts";

export interface ChangeDerivers {
  register(registration: ChangeDeriverRegistration): () => void;
  /** Event ids of all derivers of the change's kind: first-seen order, no duplicates. */
  deriveEvents(change: EntityChanged): string[];
  /** The kind's payload mapper's result; null without a mapper or when it throws. */
  toPayload(change: EntityChanged): unknown;
  /** The kinds whose derivers may emit one of `eventIds`; null when a deriver that does not declare `emits` could. */
  kindsEmitting(eventIds: readonly string[]): string[] | null;
}

export function createChangeDerivers(logger: Logger): ChangeDerivers {
  const derivers = new Map<string, ChangeDeriver[]>();
  const mappers = new Map<string, PayloadMapper>();
  /** Per kind, per deriver: what it declared it emits (null: anything). */
  const emitted = new Map<ChangeDeriver, readonly string[] | null>();

  return {
    register({ kind, derive, toPayload, emits }) {
      emitted.set(derive, emits ?? null);
      if (toPayload) {
        const existing = mappers.get(kind);
        if (existing && existing !== toPayload) {
          throw new VantageError("conflict", "payload_mapper_exists", `Entity kind "${kind}" already has a payload mapper; a kind has at most one.`);
        }
        mappers.set(kind, toPayload);
      }
      const list = derivers.get(kind) ?? [];
      list.push(derive);
      derivers.set(kind, list);
      return () => {
        list.splice(list.indexOf(derive), 1);
        emitted.delete(derive);
        if (toPayload && mappers.get(kind) === toPayload) mappers.delete(kind);
      };
    },

    deriveEvents(change) {
      const eventIds = new Set<string>();
      for (const derive of derivers.get(change.kind) ?? []) {
        try {
          for (const eventId of derive(change)) eventIds.add(eventId);
        } catch (error) {
          logger.error({ err: error, kind: change.kind, changeId: change.changeId }, "change deriver threw; skipped");
        }
      }
      return [...eventIds];
    },

    kindsEmitting(eventIds) {
      const kinds: string[] = [];
      for (const [kind, list] of derivers) {
        const declared = list.map((derive) => emitted.get(derive) ?? null);
        if (declared.includes(null)) return null;
        if (declared.some((events) => events!.some((event) => eventIds.includes(event)))) kinds.push(kind);
      }
      return kinds.sort();
    },

    toPayload(change) {
      const mapper = mappers.get(change.kind);
      if (!mapper) return null;
      try {
        return mapper(change);
      } catch (error) {
        logger.error({ err: error, kind: change.kind, changeId: change.changeId }, "payload mapper threw; payload is null");
        return null;
      }
    },
  };
}
