// A session this browser still has open (its cookie outlives the tab that signed in): a new tab
// or a reload after sessionStorage was cleared picks it up instead of asking for a password.
import { api, holdReads } from "../../api/client.ts";
import { isSignedIn, signInWithSession } from "../../auth.ts";

/** Signed in already, or now with the open session (reads held until the core answered): whether signed in. */
export async function resumeOpenSession(): Promise<boolean> {
  if (isSignedIn()) return true;
  // Held until the credentials are stored, not only until the core answered.
  return holdReads(
    (async () => {
      const session = await api.currentSession().catch(() => null);
      // Another sign-in may have won the race meanwhile (Login's form): it stands.
      if (session && !isSignedIn()) signInWithSession(session);
      return isSignedIn();
    })(),
  );
}
