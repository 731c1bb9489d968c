// Settings, for admins: the users who sign in (create with a role, a password chosen or
// generated and shown once; change the role; disable; delete) and the API tokens (create with a
// role and an optional expiry, the secret shown once; revoke). Others see why there is nothing.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { operationsApi, type Role, type User } from "../../api/operations-client.ts";
import { Badge, CopyableText, ErrorMessage, ListTable, Loading, PageHead, TimeAgo } from "../../ui/components.tsx";
import { usePermissions } from "../../permissions.ts";

const ROLES: readonly Role[] = ["viewer", "editor", "admin"];

export function SettingsPage() {
  const { role, isAdmin } = usePermissions();
  return (
    <>
      <PageHead title="Settings" sub="Who may sign in, and the tokens scripts and tools use." />
      {role === null ? <Loading what="your role" /> : null}
      {role !== null && !isAdmin ? <div className="notice">Users and API tokens are managed by admins; you are signed in as {role}.</div> : null}
      {isAdmin ? (
        <>
          <Users />
          <Tokens />
        </>
      ) : null}
    </>
  );
}

function RoleSelect({ value, onChange, label }: { value: Role; onChange: (role: Role) => void; label: string }) {
  return (
    <select aria-label={label} value={value} onChange={(event) => onChange(event.target.value as Role)}>
      {ROLES.map((role) => (
        <option key={role}>{role}</option>
      ))}
    </select>
  );
}

function Users() {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ["settings", "users"], queryFn: ({ signal }) => operationsApi.users.list(signal) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["settings", "users"] });
  const update = useMutation({
    mutationFn: ({ user, patch }: { user: User; patch: { role?: Role; disabled?: boolean } }) => operationsApi.users.update(user.id, patch),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (user: User) => operationsApi.users.remove(user.id), onSuccess: refresh });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const create = useMutation({
    mutationFn: () => operationsApi.users.create({ email, role, ...(password ? { password } : {}) }),
    onSuccess: async () => {
      setEmail("");
      setPassword("");
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <section aria-label="Users">
      <h2>Users</h2>
      <ListTable
        what="users"
        pending={users.isPending}
        error={users.error ?? update.error ?? remove.error}
        errorTitle="Users"
        items={users.data?.users}
        label="Users"
        columns={["E-mail", "Role", "Last sign-in"]}
        row={(user) => (
          <tr key={user.id}>
            <td data-label="E-mail">
              {user.email} {user.disabled ? <Badge tone="idle">disabled</Badge> : null}
            </td>
            <td data-label="Role">
              <RoleSelect label={`Role of ${user.email}`} value={user.role} onChange={(next) => update.mutate({ user, patch: { role: next } })} />
            </td>
            <td data-label="Last sign-in">
              <TimeAgo at={user.lastLoginAt} />
            </td>
            <td data-label="" className="row-actions">
              <button type="button" onClick={() => update.mutate({ user, patch: { disabled: !user.disabled } })}>
                {user.disabled ? "Enable" : "Disable"}
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => {
                  if (window.confirm(`Delete the user ${user.email}? Their sessions end.`)) remove.mutate(user);
                }}
              >
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      <form className="card" onSubmit={submit} aria-label="New user">
        <div className="form-row">
          <label className="field">
            E-mail
            <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} required placeholder="alice@example.com" />
          </label>
          <label className="field" style={{ flex: "0 1 140px" }}>
            Role
            <RoleSelect label="Role" value={role} onChange={setRole} />
          </label>
          <label className="field">
            Password (optional: generated)
            <input type="password" value={password} onChange={(event) => setPassword(event.target.value)} autoComplete="new-password" minLength={12} />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            Add user
          </button>
        </div>
        <ErrorMessage error={create.error} title="Not added" />
        {create.data?.password ? (
          <div className="success-box" role="status">
            <strong>Password for {create.data.email}</strong> — shown only now; hand it over safely.
            <CopyableText text={create.data.password} label="Password" />
          </div>
        ) : null}
      </form>
    </section>
  );
}

function Tokens() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ["settings", "tokens"], queryFn: ({ signal }) => operationsApi.tokens.list(signal) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["settings", "tokens"] });
  const revoke = useMutation({ mutationFn: (tokenId: string) => operationsApi.tokens.revoke(tokenId), onSuccess: refresh });
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [expires, setExpires] = useState("");
  const create = useMutation({
    mutationFn: () => operationsApi.tokens.create({ name, role, ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}) }),
    onSuccess: async () => {
      setName("");
      setExpires("");
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <section aria-label="API tokens">
      <h2>API tokens</h2>
      <ListTable
        what="tokens"
        pending={tokens.isPending}
        error={tokens.error ?? revoke.error}
        errorTitle="Tokens"
        items={tokens.data?.tokens}
        empty="No API tokens yet."
        label="API tokens"
        columns={["Name", "Role", "Last used", "Expires"]}
        row={(token) => (
          <tr key={token.id}>
            <td data-label="Name">{token.name}</td>
            <td data-label="Role">{token.role}</td>
            <td data-label="Last used">
              <TimeAgo at={token.lastUsedAt} />
            </td>
            <td data-label="Expires">{token.expiresAt ? new Date(token.expiresAt).toLocaleDateString() : <span className="muted">never</span>}</td>
            <td data-label="" className="row-actions">
              <button
                type="button"
                className="danger"
                onClick={() => {
                  if (window.confirm(`Revoke the token ${token.name}? Whatever uses it stops working.`)) revoke.mutate(token.id);
                }}
              >
                Revoke
              </button>
            </td>
          </tr>
        )}
      />
      <form className="card" onSubmit={submit} aria-label="New API token">
        <div className="form-row">
          <label className="field">
            Token name
            <input value={name} onChange={(event) => setName(event.target.value)} required placeholder="ci-deploy" />
          </label>
          <label className="field" style={{ flex: "0 1 140px" }}>
            Role
            <RoleSelect label="Token role" value={role} onChange={setRole} />
          </label>
          <label className="field" style={{ flex: "0 1 180px" }}>
            Expires (optional)
            <input type="date" value={expires} onChange={(event) => setExpires(event.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create token
          </button>
        </div>
        <ErrorMessage error={create.error} title="Not created" />
        {create.data ? (
          <div className="success-box" role="status">
            <strong>Token {create.data.name}</strong> — shown only now; copy it before leaving.
            <CopyableText text={create.data.token} label="API token" />
          </div>
        ) : null}
      </form>
    </section>
  );
}
