// Users, tokens and browser sessions as API tests use them: created through the API with the
// admin token, and requests sent with a session cookie (and its CSRF token) like a browser.
import type { Role } from "@vantage/protocol";
import type { Hono } from "hono";
import { expect } from "vitest";
import { type Answer, callApi } from "../api/api-app.ts";

/** Creates a user with `role` through the API (as the admin); its password is `password`. */
export async function createUser(
  app: Hono,
  email: string,
  role: Role,
  password = "a long test password",
): Promise<{ id: string; email: string; password: string }> {
  const answer = await callApi<{ id: string }>(app, "POST", "/api/v1/users", { email, role, password });
  expect(answer.status, answer.text).toBe(201);
  return { id: answer.body.id, email, password };
}

/** Creates an API token with `role` through the API (with `as`, default the admin token): its id and secret. */
export async function createToken(app: Hono, role: Role, name = `${role} token`, as?: string): Promise<{ id: string; token: string }> {
  const answer = await callApi<{ id: string; token: string }>(app, "POST", "/api/v1/tokens", { name, role }, as);
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

/** A signed-in browser: the session cookie login set, and the CSRF token login answered. */
export interface Browser {
  cookie: string;
  csrfToken: string;
  /** One request with the cookie; `csrf: false` leaves the CSRF header out. */
  call<Body = Record<string, unknown>>(method: string, path: string, body?: unknown, options?: { csrf?: boolean }): Promise<Answer<Body>>;
}

export async function login(app: Hono, email: string, password: string): Promise<Browser> {
  const response = await app.request("/api/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const cookie = /^([^;]+)/.exec(response.headers.get("set-cookie") ?? "")![1]!;
  const { csrfToken } = JSON.parse(text) as { csrfToken: string };
  return {
    cookie,
    csrfToken,
    async call<Body>(method: string, path: string, body?: unknown, options: { csrf?: boolean } = {}) {
      const headers: Record<string, string> = { "content-type": "application/json", cookie };
      if (options.csrf !== false) headers["x-csrf-token"] = csrfToken;
      const answer = await app.request(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const answerText = await answer.text();
      return { status: answer.status, text: answerText, body: (answerText === "" ? {} : JSON.parse(answerText)) as Body };
    },
  };
}
