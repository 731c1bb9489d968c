// The router's index of enabled automations by trigger event id, kept in memory on every
// instance. Loaded from the store at start and reloaded whenever a definition changes
// (NOTIFY on AUTOMATIONS_CHANGED_CHANNEL) or the notification connection was re-established
// (notifications may have been missed). Routing a change is a map lookup, never a scan.
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AUTOMATIONS_CHANGED_CHANNEL, type AutomationStore, type AutomationView } from "../definitions/automation-store.ts";
import type { AutomationCompiler } from "../definitions/automation-compiler.ts";
import type { CompiledAutomation, CompiledTrigger } from "../definitions/compile-automation.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

/** One enabled automation as the index holds it: recompiled from its stored definition. */
export interface IndexedAutomation {
  id: string;
  version: number;
  compiled: CompiledAutomation;
}

/** A trigger of an enabled automation, listed under its event id. */
export interface IndexedTrigger {
  automation: IndexedAutomation;
  trigger: CompiledTrigger;
}

export interface AutomationIndex {
  /** The triggers listening to `eventId`, in a stable order (automation name, trigger order). */
  lookup(eventId: string): readonly IndexedTrigger[];
  /** Subscribes to definition changes, then loads. Resolves once the first load is in. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reloads now (coalesced with any reload in flight); resolves when it is in. */
  reload(): Promise<void>;
}

export interface AutomationIndexOptions {
  store: Pick<AutomationStore, "listEnabledFor">;
  /** The instance's one compiler: stored definitions are compiled again as they load. */
  compiler: AutomationCompiler;
  /** Only automations on registered triggers are loaded. */
  triggers: Pick<TriggerRegistry, "list">;
  hub: NotificationHub;
  logger: Logger;
  /** Observes the index (tests, metrics): after each reload is in place. */
  onReload?: (size: number) => void;
  /** Retry delay after a failed reload triggered by a notice or a reconnect. */
  retryMs?: number;
}

export function createAutomationIndex(options: AutomationIndexOptions): AutomationIndex {
  const { store, hub } = options;
  const log = options.logger.child({ component: "automation-index" });
  let byEvent = new Map<string, IndexedTrigger[]>();
  let unsubscribe: (() => Promise<void>) | undefined;
  let unsubscribeReconnect: (() => void) | undefined;
  let stopped = true;
  // One load at a time; a request during a load schedules exactly one more after it, so the
  // last load always starts after the last notice and sees its write.
  let loading: Promise<void> | undefined;
  let again: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const compile = (view: AutomationView): IndexedAutomation | undefined => {
    const { id, version, createdAt: _created, updatedAt: _updated, ...definition } = view;
    const result = options.compiler.compile(definition);
    if (!result.ok) {
      // Saved definitions compiled when saved; this means a trigger or entity kind is gone.
      log.warn({ automationId: id, errors: result.errors }, "a stored automation no longer compiles; it is not routed");
      return undefined;
    }
    return { id, version, compiled: result.compiled };
  };

  const load = async () => {
    const events = options.triggers.list().map((trigger) => trigger.id);
    const views = events.length === 0 ? [] : await store.listEnabledFor(events);
    const next = new Map<string, IndexedTrigger[]>();
    for (const view of views) {
      const automation = compile(view);
      if (!automation) continue;
      for (const trigger of automation.compiled.triggers) {
        const list = next.get(trigger.event) ?? [];
        list.push({ automation, trigger });
        next.set(trigger.event, list);
      }
    }
    byEvent = next;
    options.onReload?.(views.length);
  };

  const reload = (): Promise<void> => {
    if (!loading) {
      loading = load().finally(() => {
        loading = undefined;
      });
      return loading;
    }
    again ??= loading
      .catch(() => undefined)
      .then(() => {
        again = undefined;
        return reload();
      });
    return again;
  };

  const reloadLogged = () => {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    reload().catch((error: unknown) => {
      // Until a reload succeeds the index holds the previous definitions: keep trying.
      log.error({ err: error }, "reloading the automation index failed; retrying");
      if (!stopped) retryTimer ??= setTimeout(reloadLogged, options.retryMs ?? 1000);
    });
  };

  return {
    lookup: (eventId) => byEvent.get(eventId) ?? [],
    async start() {
      if (!stopped) return;
      stopped = false;
      // Subscribe before the first load: a change saved meanwhile triggers another load.
      unsubscribe = await hub.subscribe(AUTOMATIONS_CHANGED_CHANNEL, reloadLogged);
      unsubscribeReconnect = hub.onReconnect(reloadLogged);
      await reload();
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      unsubscribeReconnect?.();
      unsubscribeReconnect = undefined;
      await unsubscribe?.();
      unsubscribe = undefined;
      await (again ?? loading)?.catch(() => undefined);
    },
    reload,
  };
}
