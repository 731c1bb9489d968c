// Renders one screen as the app would — inside a query client and a router (in memory), so its
// links work — against a stubbed API: `answer` says what each request gets, `calls` records them.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createMemoryHistory, createRootRoute, createRouter, RouterProvider } from "@tanstack/react-router";
import { cleanup, render } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, vi } from "vitest";
import { signInWithToken } from "../../src/auth.ts";

export interface Call {
  url: string;
  method: string;
  body: string | undefined;
}

export type Answer = (call: Call) => { status: number; body?: unknown } | undefined;

export function stubApi(answer: Answer): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const call = { url, method: init.method ?? "GET", body: init.body as string | undefined };
    calls.push(call);
    const found = answer(call) ?? { status: 404, body: { error: { code: "not_found", message: `no stub for ${call.method} ${url}` } } };
    return found.status === 204
      ? new Response(null, { status: 204 })
      : new Response(JSON.stringify(found.body ?? null), { status: found.status, headers: { "content-type": "application/json" } });
  });
  return calls;
}

/** A caller of this role (GET /auth/me), for the role-aware screens. */
export const me = (role: "viewer" | "editor" | "admin") => ({
  status: 200,
  body: { actor: { type: "user", id: "u1", name: "ops@example.com" }, role, user: null },
});

/**
 * Each test of the file signed in with the admin token; after it, the screen unmounted, the API
 * stub removed and the session forgotten. Call at the top of a test file.
 */
export function signInForEachTest(): void {
  beforeEach(() => signInWithToken("admin-token"));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
    sessionStorage.clear();
  });
}

export function renderScreen(screen: ReactNode, answer: Answer): Call[] {
  const calls = stubApi(answer);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createRouter({ routeTree: createRootRoute({ component: () => screen }), history: createMemoryHistory({ initialEntries: ["/"] }) });
  render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return calls;
}
