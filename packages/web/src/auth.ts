// Who the browser is to the API, for now: the admin token, kept in sessionStorage (gone when
// the tab closes) and sent as a bearer token. The one module issue #13's cookie sessions replace.

const TOKEN_KEY = "vantage.adminToken";

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** The token the user signed in with, or null. */
export function currentToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function isSignedIn(): boolean {
  return currentToken() !== null;
}

export function signIn(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

/** Forgets the token and tells the app (which returns to Login). */
export function signOut(): void {
  const was = isSignedIn();
  sessionStorage.removeItem(TOKEN_KEY);
  if (was) for (const listener of signedOutListeners) listener();
}

/** Headers that authenticate a request; none when signed out (the API answers 401). */
export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Told when the session ends: a sign-out, or a 401 from the API (see client.ts). */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => void signedOutListeners.delete(listener);
}
