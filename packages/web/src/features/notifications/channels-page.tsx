// Notification channels: where automations' notify steps send (webhook, Slack, Discord,
// e-mail). List them with what they point at (secrets never shown, only that they are set),
// send a test delivery and see what the receiver said, create (editors) and delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type Channel, type ChannelType, operationsApi, type TestDelivery } from "../../api/operations-client.ts";
import { Badge, ErrorMessage, ListHead, Loading, PageHead } from "../../ui/components.tsx";
import { usePermissions } from "../../permissions.ts";

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

export function ChannelsPage() {
  const queryClient = useQueryClient();
  const { canEdit } = usePermissions();
  const [creating, setCreating] = useState(false);
  const channels = useQuery({ queryKey: ["channels"], queryFn: ({ signal }) => operationsApi.channels.list(signal) });
  const remove = useMutation({
    mutationFn: (channelId: string) => operationsApi.channels.remove(channelId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["channels"] }),
  });
  const list = channels.data?.channels ?? [];
  return (
    <>
      <PageHead
        title="Notifications"
        sub="Channels that automations' notify steps send to."
        actions={
          canEdit ? (
            <button type="button" className="primary" onClick={() => setCreating(true)} disabled={creating}>
              New channel
            </button>
          ) : null
        }
      />
      {creating ? <CreateChannel onDone={() => setCreating(false)} /> : null}
      {channels.isPending ? <Loading what="channels" /> : null}
      <ErrorMessage error={channels.error ?? remove.error} title="Channels" />
      {channels.data && list.length === 0 ? <div className="notice">No channels yet. Add one, then name it in an automation's notify step.</div> : null}
      {list.length > 0 ? (
        <table className="list" aria-label="Channels">
          <ListHead columns={["Name", "Type", "Sends to"]} />
          <tbody>
            {list.map((channel) => (
              <ChannelRow key={channel.id} channel={channel} canEdit={canEdit} onDelete={() => remove.mutate(channel.id)} />
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function ChannelRow({ channel, canEdit, onDelete }: { channel: Channel; canEdit: boolean; onDelete: () => void }) {
  const test = useMutation({ mutationFn: () => operationsApi.channels.test(channel.id) });
  return (
    <tr>
      <td data-label="Name">{channel.name}</td>
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

function CreateChannel({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [type, setType] = useState<ChannelType>("webhook");
  const [fields, setFields] = useState<Record<string, string>>({});
  const [secure, setSecure] = useState(false);
  const create = useMutation({
    mutationFn: () => operationsApi.channels.create({ name, type, config: channelConfig(type, fields, secure) }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["channels"] });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-label="New channel">
      <h2 style={{ marginTop: 0 }}>New channel</h2>
      <div className="form-row">
        <label className="field">
          Name
          <input value={name} onChange={(event) => setName(event.target.value)} required placeholder="ops-webhook" />
        </label>
        <label className="field" style={{ flex: "0 1 160px" }}>
          Type
          <select value={type} onChange={(event) => setType(event.target.value as ChannelType)}>
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
              required={field.required}
              placeholder={field.placeholder}
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
      <ErrorMessage error={create.error} title="Not created" />
      <div className="actions" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
