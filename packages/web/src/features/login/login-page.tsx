// Sign in with an e-mail and password (a session cookie), or with the admin token (printed by
// the core at its first start, or VANTAGE_ADMIN_TOKEN). A session still open in this browser
// (another tab, a reload) signs in without asking.
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useEffect, useState } from "react";
import { api, holdReads } from "../../api/client.ts";
import { signInWithSession, signInWithToken } from "../../auth.ts";
import { resumeOpenSession } from "./open-session.ts";
import { ErrorMessage } from "../../ui/components.tsx";

/** Where to go after signing in: only a path on this site, never another origin. */
export function safeRedirect(target: string | undefined): string {
  return target && target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/login") ? target : "/";
}

type Method = "password" | "token";

export function LoginPage({ redirect }: { redirect?: string }) {
  const navigate = useNavigate();
  const [method, setMethod] = useState<Method>("password");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const done = () => navigate({ to: safeRedirect(redirect) });

  useEffect(() => {
    let cancelled = false;
    void resumeOpenSession().then((signedIn) => (signedIn && !cancelled ? done() : undefined));
    return () => {
      cancelled = true;
    };
    // Once, when Login opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const attempt = async (signIn: () => Promise<string | null>) => {
    setBusy(true);
    setError(null);
    try {
      const refusal = await holdReads(signIn());
      if (refusal) setError(new Error(refusal));
      else await done();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const submitPassword = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      const session = await api.login(email.trim(), password);
      if (!session) return "Wrong e-mail or password, or the account is disabled.";
      signInWithSession(session);
      return null;
    });
  };

  const submitToken = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      if (!(await api.verifyToken(token.trim()))) return "That is not the admin token of this core.";
      signInWithToken(token);
      return null;
    });
  };

  const switchTo = (next: Method) => {
    setMethod(next);
    setError(null);
  };

  return (
    <main className="login">
      {method === "password" ? (
        <form className="card" onSubmit={submitPassword}>
          <h1>Vantage</h1>
          <label className="field">
            E-mail
            <input type="email" name="email" value={email} onChange={(event) => setEmail(event.target.value)} required autoFocus autoComplete="username" />
          </label>
          <label className="field">
            Password
            <input
              type="password"
              name="password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
              autoComplete="current-password"
            />
          </label>
          <ErrorMessage error={error} />
          <button type="submit" className="primary" disabled={busy || email.trim() === "" || password === ""}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
          <button type="button" className="link" onClick={() => switchTo("token")}>
            Sign in with the admin token instead
          </button>
        </form>
      ) : (
        <form className="card" onSubmit={submitToken}>
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
          <button type="button" className="link" onClick={() => switchTo("password")}>
            Sign in with e-mail and password instead
          </button>
        </form>
      )}
    </main>
  );
}
