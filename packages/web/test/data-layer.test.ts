// @vitest-environment happy-dom
// The data layer's defects found by using it: a 503 is retried with growing waits before a screen
// shows an error; reads wait for a sign-in under way; a 401 to a request sent before the sign-in
// does not end the new session; and signing in tells the app (which reads again).
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, holdReads } from "../src/api/client.ts";
import { RETRIES, retryDelay, shouldRetry } from "../src/api/retry-policy.ts";
import { currentCredentials, isSignedIn, onSignedIn, signInWithToken } from "../src/auth.ts";
import { resumeOpenSession } from "../src/features/login/open-session.ts";

afterEach(() => {
  sessionStorage.clear();
  vi.unstubAllGlobals();
});

const unavailable = new ApiError(503, "unexpected", "The core answered 503 Service Unavailable.");

describe("retrying a failed read", () => {
  it("retries a 503 and a lost connection longer than any other failure", () => {
    const network = new ApiError(0, "network", "unreachable");
    for (const error of [unavailable, network]) {
      expect(shouldRetry(RETRIES.unavailable - 1, error)).toBe(true);
      expect(shouldRetry(RETRIES.unavailable, error)).toBe(false);
    }
    const internal = new ApiError(500, "internal", "boom");
    expect(shouldRetry(RETRIES.other - 1, internal)).toBe(true);
    expect(shouldRetry(RETRIES.other, internal)).toBe(false);
  });

  it("never retries a 4xx", () => {
    for (const status of [400, 401, 403, 404, 409]) expect(shouldRetry(0, new ApiError(status, "not_found", "no"))).toBe(false);
  });

  it("waits longer after each failure, up to a ceiling, with jitter", () => {
    const lowest = (failures: number) => retryDelay(failures, unavailable, () => 0);
    const highest = (failures: number) => retryDelay(failures, unavailable, () => 1);
    expect([0, 1, 2, 3].map(highest)).toEqual([500, 1000, 2000, 4000]);
    expect(lowest(1)).toBe(500);
    expect(highest(10)).toBe(8000);
  });

  it("waits as long as the core's Retry-After says", () => {
    const told = new ApiError(503, "unexpected", "not ready", [], 3000);
    expect(retryDelay(0, told, () => 0)).toBe(3000);
  });

  it("reads Retry-After from the core's answer", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("", { status: 503, headers: { "retry-after": "2" } })),
    );
    const error = await api.checks.get("c1").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).retryAfterMs).toBe(2000);
  });
});

describe("reads during a sign-in", () => {
  it("wait for it and go out with its credentials", async () => {
    const sent: Array<string | null> = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (_url: string, init: RequestInit) => {
        sent.push(new Headers(init.headers).get("authorization"));
        return Response.json({ automations: [] });
      }),
    );
    let finish!: () => void;
    void holdReads(new Promise<void>((resolve) => (finish = resolve)).then(() => signInWithToken("new-token")));
    const read = api.automations.list();
    await Promise.resolve();
    expect(sent).toEqual([]);
    finish();
    await read;
    expect(sent).toEqual(["Bearer new-token"]);
  });

  it("are not held once the sign-in failed", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Response.json({ automations: [] })),
    );
    await holdReads(Promise.reject(new Error("wrong password"))).catch(() => undefined);
    await expect(api.automations.list()).resolves.toEqual({ automations: [] });
  });
});

describe("a session still open in this browser", () => {
  it("is picked up by a tab without credentials, reads held until it is stored", async () => {
    const order: string[] = [];
    let answerMe!: () => void;
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string) => {
        order.push(url);
        if (url === "/api/v1/auth/me") {
          const session = { actor: { type: "user", id: "u1", name: "ann@example.com" }, role: "editor", user: null, csrfToken: "csrf-1" };
          return new Promise<Response>((resolve) => (answerMe = () => resolve(Response.json(session))));
        }
        order.push(`signed in: ${isSignedIn()}`);
        return Promise.resolve(Response.json({ automations: [] }));
      }),
    );
    const resumed = resumeOpenSession();
    const read = api.automations.list();
    await Promise.resolve();
    expect(order).toEqual(["/api/v1/auth/me"]);
    answerMe();
    expect(await resumed).toBe(true);
    await read;
    expect(order).toEqual(["/api/v1/auth/me", "/api/v1/automations", "signed in: true"]);
    expect(currentCredentials()).toEqual({ kind: "session", csrfToken: "csrf-1", email: "ann@example.com" });
  });
});

describe("a 401", () => {
  it("to a read sent before signing in leaves the new session signed in", async () => {
    let answer!: (response: Response) => void;
    vi.stubGlobal(
      "fetch",
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    );
    const signedOutRead = api.automations.list().catch((caught: unknown) => caught);
    await Promise.resolve();
    signInWithToken("fresh-token");
    answer(Response.json({ error: { code: "unauthorized", message: "no" } }, { status: 401 }));
    expect(await signedOutRead).toBeInstanceOf(ApiError);
    expect(currentCredentials()).toEqual({ kind: "token", token: "fresh-token" });
  });

  it("to a read sent with the current credentials signs out", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Response.json({ error: { code: "unauthorized", message: "no" } }, { status: 401 })),
    );
    signInWithToken("revoked-token");
    await api.automations.list().catch(() => undefined);
    expect(isSignedIn()).toBe(false);
  });
});

describe("signing in", () => {
  it("tells the app, once per sign-in", () => {
    const told = vi.fn();
    const stop = onSignedIn(told);
    signInWithToken("a");
    stop();
    signInWithToken("b");
    expect(told).toHaveBeenCalledOnce();
  });
});
