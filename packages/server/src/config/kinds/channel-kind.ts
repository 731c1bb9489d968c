// Notification channels as bundle resources: the spec is `{ type, config }` as the channels API
// takes it; a secret field omitted or `<redacted>` keeps the stored value (exports never hold one).
import { type Issue, validateInput } from "@vantage/protocol";
import { REDACTED } from "../../crypto/index.ts";
import { type ChannelType, type CreateChannelRequest, createChannelSchema, type NotificationChannelStore, SECRET_FIELDS } from "../../notifications/index.ts";
import type pg from "pg";
import { VantageError } from "../../errors.ts";
import { omit, type ResourceKindAdapter, type Spec } from "./resource-kind.ts";

const secretFieldsOf = (type: unknown): readonly string[] => SECRET_FIELDS[type as ChannelType] ?? [];

/** Names of the automations whose notify steps name the channel, as `tx` sees them. */
export type ChannelUsersIn = (tx: pg.PoolClient, channel: { id?: string; name: string }) => Promise<string[]>;

/** As the channels API refuses: a delete, or a rename under steps naming it by name, would break their alerts. */
async function refuseInUse(usedBy: ChannelUsersIn, tx: pg.PoolClient, channel: { id?: string; name: string }, change: string): Promise<void> {
  const users = await usedBy(tx, channel);
  if (users.length === 0) return;
  throw new VantageError(
    "conflict",
    "channel_in_use",
    `the notify steps of ${users.map((user) => `"${user}"`).join(", ")} name it: ${change} would break their alerts`,
    {
      details: { automations: users },
    },
  );
}

export function channelKind(channels: NotificationChannelStore, usedBy: ChannelUsersIn): ResourceKindAdapter {
  return {
    kind: "NotificationChannel",
    async loadAll(db) {
      return (await channels.resolveAll(db)).map((channel) => ({ id: channel.id, name: channel.name, spec: { type: channel.type, config: channel.settings } }));
    },
    async normalize(name, spec, stored) {
      const issues: Issue[] = [];
      if (stored && spec.type !== stored.spec.type) {
        issues.push({ path: "type", message: `type cannot change (stored: ${String(stored.spec.type)}); give the channel a new name to replace it` });
      }
      // Secrets the bundle does not state are kept, as a PATCH keeps them.
      const config = { ...((spec.config ?? {}) as Spec) };
      const storedConfig = (stored?.spec.config ?? {}) as Spec;
      for (const field of secretFieldsOf(spec.type)) {
        if (config[field] !== undefined && config[field] !== REDACTED) continue;
        if (storedConfig[field] !== undefined) config[field] = storedConfig[field];
        else if (config[field] === REDACTED)
          issues.push({ path: `config.${field}`, message: `${field} is <redacted> but nothing is stored; give it, e.g. as \${env:NAME}` });
      }
      if (issues.length > 0) return { ok: false, issues };
      const parsed = validateInput(createChannelSchema, { ...spec, config, name }, { root: "the channel" });
      return parsed.ok ? { ok: true, spec: omit({ ...parsed.value }, "name") } : { ok: false, issues: parsed.issues };
    },
    redact(spec) {
      const config = { ...((spec.config ?? {}) as Spec) };
      for (const field of secretFieldsOf(spec.type)) if (config[field] !== undefined) config[field] = REDACTED;
      return { ...spec, config };
    },
    async create(tx, name, spec, context) {
      // Normalized: parsed by createChannelSchema already.
      return { id: (await channels.create({ ...spec, name } as CreateChannelRequest, tx, context)).id };
    },
    async update(tx, stored, name, spec, context) {
      if (name !== stored.name) await refuseInUse(usedBy, tx, { name: stored.name }, `renaming it to "${name}"`);
      // A replace through the PATCH: every field given, and null for those the spec drops.
      const config: Record<string, unknown> = { ...(spec.config as Spec) };
      for (const key of Object.keys(stored.spec.config as Spec)) if (!(key in config)) config[key] = null;
      await channels.update(stored.id, { name, config }, tx, context);
      return {};
    },
    async remove(tx, stored, context) {
      await refuseInUse(usedBy, tx, { id: stored.id, name: stored.name }, "deleting it");
      await channels.remove(stored.id, tx, context);
      return {};
    },
    announce: () => undefined,
  };
}
