// Starts the UI: one query cache (re-fetching on window focus, never on a timer; a core that
// is not ready retried with backoff), the live feed that invalidates it, a fresh start of both
// on every sign-in, and the return to Login whenever the session ends.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { retryDelay, shouldRetry } from "./api/retry-policy.ts";
import { isSignedIn, onSignedIn, onSignedOut } from "./auth.ts";
import { setLiveState } from "./live-context.ts";
import { startLive } from "./live.ts";
import { router } from "./router.tsx";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      refetchOnWindowFocus: true,
      staleTime: 5_000,
      retry: shouldRetry,
      retryDelay,
    },
  },
});

let stopLive: (() => void) | undefined;
const followChanges = () => {
  stopLive ??= startLive({ queryClient }, setLiveState);
};
if (isSignedIn()) followChanges();

onSignedOut(() => {
  stopLive?.();
  stopLive = undefined;
  queryClient.clear();
  void router.navigate({ to: "/login", search: { redirect: router.state.location.href } });
});
// Whatever was read while signed out (a 401 kept as the query's error, a screen left half
// loaded) is read again with the new credentials; and changes are followed from now on.
onSignedIn(() => {
  followChanges();
  void queryClient.resetQueries();
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
