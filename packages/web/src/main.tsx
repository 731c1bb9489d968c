// Starts the UI: one query cache (re-fetching on window focus, never on a timer), the live
// feed that invalidates it, and the return to Login whenever the session ends.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiError } from "./api/client.ts";
import { isSignedIn, onSignedOut } from "./auth.ts";
import { setLiveState } from "./live-context.ts";
import { startLive } from "./live.ts";
import { router } from "./router.tsx";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      refetchOnWindowFocus: true,
      staleTime: 5_000,
      // A 4xx will not change by asking again; a network error or 5xx might.
      retry: (failures, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failures < 2,
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
// Signing in lands on a signed-in route: start following changes then.
router.subscribe("onResolved", () => {
  if (isSignedIn()) followChanges();
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
