// /api/v1/auth: login (a session cookie and its CSRF token), logout, and who am I. Login is
// the only API route without credentials; it is rate limited per client address and per
// account, so neither many accounts from one address nor one account from many is guessable.
import { CSRF_HEADER, loginRequestSchema, type WhoAmI, whoAmISchema } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { VantageError } from "../errors.ts";
import { describeRoute, readJsonBody, type RouteDoc } from "../http/index.ts";
import { peerOf, requestAddress, SESSION_COOKIE, tooManyFailures } from "./api-guard.ts";
import type { ClientAddressOf, IsHttpsOf } from "./client-address.ts";
import { type FailureLimit, FailureLimiter } from "./failure-window.ts";
import { type Principal, principalOf } from "./principal.ts";
import type { SessionStore } from "./sessions/session-store.ts";
import type { Passwords } from "./users/passwords.ts";
import type { UserStore } from "./users/user-store.ts";

/** Wrong passwords allowed per account and per client address in a window. */
export const DEFAULT_LOGIN_FAILURE_LIMIT: FailureLimit = { max: 10, windowMs: 15 * 60_000 };

/** The cookie is sent to the API only: the web UI's pages and assets need no credentials. */
const COOKIE_PATH = "/api/";

const invalidCredentials = () => new VantageError("unauthorized", "invalid_credentials", "Wrong e-mail or password, or the account is disabled.");

// Plain descriptions, wrapped by describeRoute when the routes are built: http imports auth (the guard), so
// describeRoute is not yet defined while this file loads.
const docs = {
  login: {
    summary: "Log in",
    description:
      `Starts a browser session: sets the HttpOnly cookie \`${SESSION_COOKIE}\` and answers who you are with the session's CSRF token, ` +
      `which every write with the cookie must send in \`${CSRF_HEADER}\`. Failed logins are limited per account and per client address.`,
    public: true,
    body: loginRequestSchema,
    responses: { 200: { description: "Logged in; the session cookie is set", schema: whoAmISchema } },
    errors: {
      401: "Wrong e-mail or password, or the account is disabled (`invalid_credentials`).",
      429: "Too many failed logins for this account or from this address (`too_many_auth_failures`); retry after the Retry-After header.",
    },
  },
  logout: {
    summary: "Log out",
    description: "Ends the cookie's session and clears the cookie. With a bearer token there is no session to end: 204 all the same.",
    responses: { 204: { description: "Logged out" } },
    examples: { logout: { summary: "End the session" } },
  },
  me: {
    summary: "Who am I",
    description: "The caller's actor and role, its user (null for the admin token), and for a browser session its CSRF token and absolute expiry.",
    responses: { 200: { description: "The caller", schema: whoAmISchema } },
    examples: { me: { summary: "The caller" } },
  },
} satisfies Record<string, RouteDoc>;

export interface AuthRoutesOptions {
  users: UserStore;
  sessions: SessionStore;
  passwords: Passwords;
  clientAddressOf: ClientAddressOf;
  isHttpsOf: IsHttpsOf;
  loginFailureLimit?: FailureLimit | undefined;
  now: () => number;
}

export function createAuthRoutes(options: AuthRoutesOptions): Hono {
  const { users, sessions, passwords, clientAddressOf, isHttpsOf } = options;
  const failures = new FailureLimiter(options.loginFailureLimit ?? DEFAULT_LOGIN_FAILURE_LIMIT, options.now);
  const secure = (c: Context) =>
    isHttpsOf(peerOf(c), c.req.url, { forwarded: c.req.header("forwarded"), "x-forwarded-proto": c.req.header("x-forwarded-proto") });
  const routes = new Hono();

  const whoAmI = async (principal: Principal): Promise<WhoAmI> => ({
    actor: principal.actor,
    role: principal.role,
    user: principal.userId === null ? null : await users.get(principal.userId),
    ...(principal.session && { csrfToken: principal.session.csrfToken, expiresAt: principal.session.expiresAt.toISOString() }),
  });

  routes.post("/login", describeRoute(docs.login), async (c) => {
    const { email, password } = await readJsonBody(c, loginRequestSchema);
    const keys = [`address:${requestAddress(c, clientAddressOf)}`, `account:${email}`];
    const attempt = failures.begin(keys);
    if (!attempt) return tooManyFailures(c, failures, keys, "Too many failed logins for this account or from this address");
    const candidate = await users.forLogin(email);
    if (!(await passwords.check(password, candidate?.passwordHash)) || !candidate || candidate.disabled) {
      attempt.failed();
      throw invalidCredentials();
    }
    attempt.succeeded();
    const session = await sessions.create(candidate.id);
    const user = await users.recordLogin(candidate.id);
    setCookie(c, SESSION_COOKIE, session.secret, { path: COOKIE_PATH, httpOnly: true, sameSite: "Lax", secure: secure(c), expires: session.expiresAt });
    const answer: WhoAmI = {
      actor: { type: "user", id: user.id, name: user.email },
      role: user.role,
      user,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
    };
    return c.json(answer);
  });

  routes.post("/logout", describeRoute(docs.logout), async (c) => {
    const { session } = principalOf(c);
    if (session) await sessions.remove(session.id);
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: "Lax", secure: secure(c) });
    return c.body(null, 204);
  });

  routes.get("/me", describeRoute(docs.me), async (c) => c.json(await whoAmI(principalOf(c))));

  return routes;
}
