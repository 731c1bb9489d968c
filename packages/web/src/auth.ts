// Who the browser is to the API: a login session (an HttpOnly cookie the browser sends by
// itself, plus the session's CSRF token that every write must carry) or the admin token sent
// as a bearer token. Kept in sessionStorage (gone when the tab closes); the cookie outlives
// the tab, so Login first asks the core whether a session is still open.
import type { CSRF_HEADER as PROTOCOL_CSRF_HEADER, WhoAmI } from "@vantage/protocol";

// Typed by the protocol's constant (a mismatch fails the type check) without bundling the protocol's code.
const CSRF_HEADER: typeof PROTOCOL_CSRF_HEADER = "X-CSRF-Token";

const STORAGE_KEY = "vantage.credentials";

/** How this tab signed in. */
export type Credentials = { kind: "session"; csrfToken: string; email: string } | { kind: "token"; token: string };

type Listener = () => void;
const signedOutListeners = new Set<Listener>();
const signedInListeners = new Set<Listener>();

export function currentCredentials(): Credentials | null {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (stored === null) return null;
  try {
    return JSON.parse(stored) as Credentials;
  } catch {
    return null;
  }
}

export function isSignedIn(): boolean {
  return currentCredentials() !== null;
}

/** Signed in with the admin token (checked against the API by Login). */
export function signInWithToken(token: string): void {
  store({ kind: "token", token: token.trim() });
}

/** Signed in with a session: login's (or /auth/me's) answer carries its CSRF token. */
export function signInWithSession(answer: WhoAmI): void {
  if (answer.csrfToken === undefined) throw new Error("The core answered without a session's CSRF token.");
  store({ kind: "session", csrfToken: answer.csrfToken, email: answer.user?.email ?? answer.actor.name ?? "" });
}

function store(credentials: Credentials): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
  for (const listener of signedInListeners) listener();
}

/**
 * Forgets the credentials, ends a session on the core too (best effort), then tells the app,
 * which returns to Login: only once the logout answered, or Login would find the session still open.
 */
export async function signOut(): Promise<void> {
  const credentials = currentCredentials();
  sessionStorage.removeItem(STORAGE_KEY);
  if (credentials?.kind === "session") {
    await fetch("/api/v1/auth/logout", { method: "POST", headers: { [CSRF_HEADER]: credentials.csrfToken } }).catch(() => undefined);
  }
  if (credentials) for (const listener of signedOutListeners) listener();
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Headers that authenticate a request of `method`: the bearer token, or for a session's writes
 * its CSRF token (the cookie goes by itself). None when signed out (the API answers 401).
 */
export function authHeaders(method = "GET"): Record<string, string> {
  const credentials = currentCredentials();
  if (credentials?.kind === "token") return { authorization: `Bearer ${credentials.token}` };
  if (credentials?.kind === "session" && !READ_METHODS.has(method.toUpperCase())) return { [CSRF_HEADER]: credentials.csrfToken };
  return {};
}

/**
 * Forgets the credentials only if they are still `used`: a 401 to a request sent before a
 * sign-in (without credentials, or with the previous ones) says nothing of the new session and
 * must not end it — the answer to a read sent while Login was still open would otherwise sign
 * the user straight out again.
 */
export async function signOutIfStill(used: Credentials | null): Promise<void> {
  if (used === null || JSON.stringify(used) !== JSON.stringify(currentCredentials())) return;
  await signOut();
}

/** Told when the browser signs in (a login, the admin token, a session still open): the app refetches what it read while signed out. */
export function onSignedIn(listener: Listener): () => void {
  signedInListeners.add(listener);
  return () => void signedInListeners.delete(listener);
}

/** Told when the session ends: a sign-out, or a 401 from the API (see client.ts). */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => void signedOutListeners.delete(listener);
}
