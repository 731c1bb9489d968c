// Sign in with the admin token (printed by the core at its first start, or VANTAGE_ADMIN_TOKEN).
// The token is checked against the API before it is kept.
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../../api/client.ts";
import { signIn } from "../../auth.ts";
import { ErrorMessage } from "../../ui/components.tsx";

/** Where to go after signing in: only a path on this site, never another origin. */
export function safeRedirect(target: string | undefined): string {
  return target && target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/login") ? target : "/";
}

export function LoginPage({ redirect }: { redirect?: string }) {
  const navigate = useNavigate();
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (!(await api.verifyToken(token.trim()))) {
        setError(new Error("That is not the admin token of this core."));
        return;
      }
      signIn(token);
      await navigate({ to: safeRedirect(redirect) });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form className="card" onSubmit={(event) => void submit(event)}>
        <h1>Vantage</h1>
        <p className="muted" style={{ margin: 0 }}>
          Sign in with the admin token: the core prints it at its first start, or set it with <code>VANTAGE_ADMIN_TOKEN</code>.
        </p>
        <label className="field">
          Admin token
          <input
            type="password"
            name="token"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            required
            autoFocus
            autoComplete="current-password"
          />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy || token.trim() === ""}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p className="muted" style={{ margin: 0, fontSize: 13 }}>
          Kept in this tab only (sessionStorage) until you sign out or close it.
        </p>
      </form>
    </main>
  );
}
