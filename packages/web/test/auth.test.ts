// @vitest-environment happy-dom
// How the browser authenticates requests: a bearer admin token on every request; a session's
// cookie goes by itself and its CSRF token rides on writes only; signing out of a session ends it on the core.
import { afterEach, describe, expect, it, vi } from "vitest";
import { authHeaders, isSignedIn, onSignedOut, signInWithSession, signInWithToken, signOut } from "../src/auth.ts";

afterEach(() => {
  sessionStorage.clear();
  vi.unstubAllGlobals();
});

const session = { actor: { type: "user" as const, id: "u1", name: "ann@example.com" }, role: "editor" as const, user: null, csrfToken: "csrf-123" };

describe("the headers of a request", () => {
  it("carry the admin token as a bearer token, for reads and writes", () => {
    signInWithToken(" admin-token ");
    expect(authHeaders("GET")).toEqual({ authorization: "Bearer admin-token" });
    expect(authHeaders("DELETE")).toEqual({ authorization: "Bearer admin-token" });
  });

  it("carry a session's CSRF token on writes only", () => {
    signInWithSession(session);
    expect(authHeaders("GET")).toEqual({});
    expect(authHeaders()).toEqual({});
    for (const method of ["POST", "put", "PATCH", "DELETE"]) expect(authHeaders(method)).toEqual({ "X-CSRF-Token": "csrf-123" });
  });

  it("are none when signed out", () => {
    expect(isSignedIn()).toBe(false);
    expect(authHeaders("POST")).toEqual({});
  });
});

describe("signing out", () => {
  it("logs the session out on the core, with its CSRF token, and tells the app", async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal("fetch", fetchMock);
    const told = vi.fn();
    const stop = onSignedOut(told);
    signInWithSession(session);
    await signOut();
    stop();
    expect(isSignedIn()).toBe(false);
    expect(told).toHaveBeenCalledOnce();
    expect(fetchMock).toHaveBeenCalledWith("/api/v1/auth/logout", { method: "POST", headers: { "X-CSRF-Token": "csrf-123" } });
  });

  it("with the admin token, only forgets it", async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    signInWithToken("admin-token");
    await signOut();
    expect(isSignedIn()).toBe(false);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
