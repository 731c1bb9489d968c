// Automations as bundle resources: the spec is the automations API's definition without `name`,
// compiled by the instance's one compiler and written through the AutomationStore (sealed
// webhook secrets, a kept version, the index's notice). A notify step may name a channel of the
// same bundle, which the apply creates first.
import { type Action, canonicalUuid, forEachAction, type Issue } from "@vantage/protocol";
import {
  type AutomationCompiler,
  type AutomationStore,
  type AutomationView,
  type CompiledAutomation,
  redactWebhookSecrets,
  restoreWebhookSecrets,
} from "../../automations/index.ts";
import { type BundleNames, omit, type ResourceKindAdapter, type Spec, type StoredResource } from "./resource-kind.ts";

const VIEW_FIELDS = ["id", "name", "version", "createdAt", "updatedAt"];

/** Notify steps naming a channel (by name) that neither exists nor is in the bundle. */
function unknownChannels(actions: readonly Action[], channels: ReadonlySet<string>, storedIds: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  forEachAction(actions, "actions", (action, path) => {
    if (!("notify" in action)) return;
    const channel = action.notify.channel;
    const id = canonicalUuid(channel);
    if (id === undefined ? !channels.has(channel) : !storedIds.has(id)) {
      issues.push({ path: `${path}.notify.channel`, message: `no notification channel named "${channel}" exists or is in the bundle` });
    }
  });
  return issues;
}

export interface AutomationKindOptions {
  store: AutomationStore;
  compiler: AutomationCompiler;
  /** The ids of the stored channels (a notify step may name one by id). */
  channelIds: () => Promise<ReadonlySet<string>>;
}

export function automationKind(options: AutomationKindOptions): ResourceKindAdapter {
  const { store, compiler } = options;
  const compile = (name: string, spec: Spec): { compiled?: CompiledAutomation; issues: Issue[] } => {
    const result = compiler.compile({ ...spec, name });
    return result.ok ? { compiled: result.compiled, issues: [] } : { issues: result.errors };
  };
  const compiled = (name: string, spec: Spec): CompiledAutomation => {
    const { compiled: result, issues } = compile(name, spec);
    if (!result) throw new Error(`a normalized automation no longer compiles: ${issues.map((issue) => issue.message).join("; ")}`);
    return result;
  };
  return {
    kind: "Automation",
    async loadAll(db) {
      return (await store.listWithSecrets(db)).map((view) => ({ id: view.id, name: view.name, spec: omit(view, ...VIEW_FIELDS) }));
    },
    async normalize(name, spec, stored: StoredResource | null, names: BundleNames) {
      const first = compile(name, spec);
      if (!first.compiled) return { ok: false, issues: first.issues };
      const restored = restoreWebhookSecrets(first.compiled.definition, stored ? ({ ...stored.spec, name: stored.name } as unknown as AutomationView) : null);
      if (restored.issues.length > 0) return { ok: false, issues: restored.issues };
      const second = compile(name, restored.document as unknown as Spec);
      if (!second.compiled) return { ok: false, issues: second.issues };
      const channels = unknownChannels(second.compiled.definition.actions, names.get("NotificationChannel") ?? new Set(), await options.channelIds());
      if (channels.length > 0) return { ok: false, issues: channels };
      return { ok: true, spec: omit({ ...second.compiled.definition }, "name") };
    },
    redact: (spec) => redactWebhookSecrets(spec),
    async create(tx, name, spec, context) {
      return { id: (await store.create(compiled(name, spec), tx, context)).id };
    },
    async update(tx, stored, name, spec, context) {
      await store.replace(stored.id, compiled(name, spec), undefined, tx, context);
      return {};
    },
    async remove(tx, stored, context) {
      await store.remove(stored.id, tx, context);
      return {};
    },
    announce: () => undefined,
  };
}
