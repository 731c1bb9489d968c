// Notification channels: where automations' notify steps send (webhook, Slack, Discord,
// e-mail). List them with what they point at (secrets never shown, only that they are set),
// send a test delivery and see what the receiver said; editors create, edit (a secret left blank
// is kept) and delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type Channel, type ChannelType, operationsApi, type TestDelivery } from "../../api/operations-client.ts";
import { Badge, ErrorMessage, ListTable, PageHead } from "../../ui/components.tsx";
import { usePermissions } from "../../permissions.ts";
import { confirmManagedEdit, ManagedByBadge, ManagedWarning, useManagedByOfKind } from "../config/managed-by.tsx";

const TYPES: readonly ChannelType[] = ["webhook", "slack", "discord", "email"];

/** What a channel points at, without its secrets. */
export function channelTarget(channel: Pick<Channel, "type" | "config" | "secretsSet">): string {
  const config = channel.config;
  if (channel.type === "webhook") return String(config.url ?? "");
  if (channel.type === "email") return `${Array.isArray(config.to) ? config.to.join(", ") : ""} via ${String(config.host ?? "")}:${String(config.port ?? "")}`;
  return channel.secretsSet.includes("webhookUrl") ? "incoming webhook (set)" : "incoming webhook";
}

/** The form's fields as the API's `config` for the type. */
export function channelConfig(type: ChannelType, fields: Record<string, string>, secure: boolean): Record<string, unknown> {
  if (type === "webhook") return { url: fields.url ?? "", ...(fields.secret ? { secret: fields.secret } : {}) };
  if (type === "slack" || type === "discord") return { webhookUrl: fields.webhookUrl ?? "" };
  return {
    host: fields.host ?? "",
    port: Number(fields.port || (secure ? 465 : 587)),
    secure,
    ...(fields.username ? { username: fields.username } : {}),
    ...(fields.password ? { password: fields.password } : {}),
    from: fields.from ?? "",
    to: (fields.to ?? "")
      .split(",")
      .map((address) => address.trim())
      .filter((address) => address !== ""),
  };
}

/** Each type's secret fields: never shown, kept when left blank in an edit. */
const SECRET_FIELDS: Record<ChannelType, readonly string[]> = { webhook: ["secret"], slack: ["webhookUrl"], discord: ["webhookUrl"], email: ["password"] };
/** Optional settings (not secrets) an edit clears, with null, when emptied. */
const CLEARABLE_FIELDS: Record<ChannelType, readonly string[]> = { webhook: [], slack: [], discord: [], email: ["username"] };

/** A stored channel's settings as the form's fields (secrets blank: they are never shown). */
export function channelFields(channel: Pick<Channel, "type" | "config">): { fields: Record<string, string>; secure: boolean } {
  const config = channel.config;
  const fields: Record<string, string> = {};
  for (const field of FIELDS[channel.type]) {
    const value = config[field.key];
    if (Array.isArray(value)) fields[field.key] = value.join(", ");
    else if (value !== undefined && value !== null) fields[field.key] = String(value);
  }
  return { fields, secure: config.secure === true };
}

/** The PATCH an edit sends: the form's config less the secrets left blank (kept), emptied optional fields cleared. */
export function channelPatch(channel: Pick<Channel, "type" | "name">, name: string, fields: Record<string, string>, secure: boolean) {
  const config: Record<string, unknown> = channelConfig(channel.type, fields, secure);
  for (const key of SECRET_FIELDS[channel.type]) if (!fields[key]) delete config[key];
  for (const key of CLEARABLE_FIELDS[channel.type]) if (!fields[key]) config[key] = null;
  return { ...(name !== channel.name ? { name } : {}), config };
}

export function ChannelsPage() {
  const queryClient = useQueryClient();
  const { canEdit } = usePermissions();
  // The channel being edited, or "new"; one form at a time.
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const channels = useQuery({ queryKey: ["channels"], queryFn: ({ signal }) => operationsApi.channels.list(signal) });
  const managedBy = useManagedByOfKind("NotificationChannel");
  const remove = useMutation({
    mutationFn: (channelId: string) => operationsApi.channels.remove(channelId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["channels"] }),
  });
  return (
    <>
      <PageHead
        title="Notifications"
        sub="Channels that automations' notify steps send to."
        actions={
          canEdit ? (
            <button type="button" className="primary" onClick={() => setEditing("new")} disabled={editing !== null}>
              New channel
            </button>
          ) : null
        }
      />
      {editing !== null ? (
        <ChannelForm
          key={editing === "new" ? "new" : editing.id}
          channel={editing === "new" ? undefined : editing}
          managedBy={editing === "new" ? undefined : managedBy.get(editing.id)}
          onDone={() => setEditing(null)}
        />
      ) : null}
      <ListTable
        what="channels"
        pending={channels.isPending}
        error={channels.error ?? remove.error}
        errorTitle="Channels"
        items={channels.data?.channels}
        empty="No channels yet. Add one, then name it in an automation's notify step."
        label="Channels"
        columns={["Name", "Type", "Sends to"]}
        row={(channel) => (
          <ChannelRow
            key={channel.id}
            channel={channel}
            managedBy={managedBy.get(channel.id)}
            canEdit={canEdit}
            onEdit={editing === null ? () => confirmManagedEdit("notification channel", managedBy.get(channel.id)) && setEditing(channel) : undefined}
            onDelete={() => remove.mutate(channel.id)}
          />
        )}
      />
    </>
  );
}

function ChannelRow({
  channel,
  managedBy,
  canEdit,
  onEdit,
  onDelete,
}: {
  channel: Channel;
  managedBy: string | undefined;
  canEdit: boolean;
  onEdit: (() => void) | undefined;
  onDelete: () => void;
}) {
  const test = useMutation({ mutationFn: () => operationsApi.channels.test(channel.id) });
  return (
    <tr>
      <td data-label="Name">
        {channel.name} <ManagedByBadge bundle={managedBy} />
      </td>
      <td data-label="Type">{channel.type}</td>
      <td data-label="Sends to" className="target">
        {channelTarget(channel)}
        {channel.secretsSet.length > 0 ? <span className="muted"> · secrets set: {channel.secretsSet.join(", ")}</span> : null}
        {test.data ? <TestOutcome result={test.data} /> : null}
        <ErrorMessage error={test.error} title="Not tested" />
      </td>
      <td data-label="" className="row-actions">
        {canEdit ? (
          <>
            <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
              {test.isPending ? "Sending…" : "Send test"}
            </button>
            <button type="button" onClick={onEdit} disabled={!onEdit} aria-label={`Edit ${channel.name}`}>
              Edit
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Delete the channel ${channel.name}?`)) onDelete();
              }}
            >
              Delete
            </button>
          </>
        ) : null}
      </td>
    </tr>
  );
}

function TestOutcome({ result }: { result: TestDelivery }) {
  return (
    <div role="status" aria-label="Test delivery">
      {result.ok ? <Badge tone="ok">delivered</Badge> : <Badge tone="bad">failed</Badge>}
      {result.status !== undefined ? <span className="muted"> answered {result.status}</span> : null}
      {result.error ? <span> {result.error}</span> : null}
      {result.retryable ? <span className="muted"> (may work later)</span> : null}
    </div>
  );
}

const FIELDS: Record<ChannelType, Array<{ key: string; label: string; type?: string; required?: boolean; placeholder?: string }>> = {
  webhook: [
    { key: "url", label: "URL", type: "url", required: true, placeholder: "https://hooks.example.com/vantage" },
    { key: "secret", label: "Signing secret (optional)", type: "password" },
  ],
  slack: [{ key: "webhookUrl", label: "Incoming webhook URL", type: "url", required: true, placeholder: "https://hooks.slack.com/services/…" }],
  discord: [{ key: "webhookUrl", label: "Incoming webhook URL", type: "url", required: true, placeholder: "https://discord.com/api/webhooks/…" }],
  email: [
    { key: "host", label: "SMTP host", required: true, placeholder: "smtp.example.com" },
    { key: "port", label: "Port", type: "number", placeholder: "587" },
    { key: "username", label: "Username (optional)" },
    { key: "password", label: "Password (optional)", type: "password" },
    { key: "from", label: "From", required: true, placeholder: "Vantage <alerts@example.com>" },
    { key: "to", label: "To (comma separated)", required: true, placeholder: "ops@example.com" },
  ],
};

/** Creates a channel, or edits `channel` (its type fixed, its secrets blank: left blank, they are kept). */
function ChannelForm({ channel, managedBy, onDone }: { channel?: Channel; managedBy: string | undefined; onDone: () => void }) {
  const queryClient = useQueryClient();
  const initial = channel ? channelFields(channel) : { fields: {}, secure: false };
  const [name, setName] = useState(channel?.name ?? "");
  const [type, setType] = useState<ChannelType>(channel?.type ?? "webhook");
  const [fields, setFields] = useState<Record<string, string>>(initial.fields);
  const [secure, setSecure] = useState(initial.secure);
  const save = useMutation({
    mutationFn: () =>
      channel
        ? operationsApi.channels.update(channel.id, channelPatch(channel, name, fields, secure))
        : operationsApi.channels.create({ name, type, config: channelConfig(type, fields, secure) }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["channels"] });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const isSet = (key: string) => channel !== undefined && SECRET_FIELDS[type].includes(key) && channel.secretsSet.includes(key);
  return (
    <form className="card" onSubmit={submit} aria-label={channel ? "Edit channel" : "New channel"}>
      <h2 style={{ marginTop: 0 }}>{channel ? `Edit ${channel.name}` : "New channel"}</h2>
      <ManagedWarning what="notification channel" bundle={managedBy} />
      <div className="form-row">
        <label className="field">
          Name
          <input value={name} onChange={(event) => setName(event.target.value)} required placeholder="ops-webhook" />
        </label>
        <label className="field" style={{ flex: "0 1 160px" }}>
          Type
          {/* The type of a stored channel never changes. */}
          <select value={type} onChange={(event) => setType(event.target.value as ChannelType)} disabled={channel !== undefined}>
            {TYPES.map((option) => (
              <option key={option}>{option}</option>
            ))}
          </select>
        </label>
      </div>
      <div className="form-row">
        {FIELDS[type].map((field) => (
          <label className="field" key={`${type}-${field.key}`}>
            {field.label}
            <input
              type={field.type ?? "text"}
              required={field.required && !isSet(field.key)}
              placeholder={isSet(field.key) ? "set (leave blank to keep)" : field.placeholder}
              value={fields[field.key] ?? ""}
              onChange={(event) => setFields({ ...fields, [field.key]: event.target.value })}
            />
          </label>
        ))}
        {type === "email" ? (
          <label className="checkbox">
            <input type="checkbox" checked={secure} onChange={(event) => setSecure(event.target.checked)} /> TLS from the start (port 465)
          </label>
        ) : null}
      </div>
      <ErrorMessage error={save.error} title={channel ? "Not saved" : "Not created"} />
      <div className="actions" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={save.isPending}>
          {channel ? "Save" : "Create"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
