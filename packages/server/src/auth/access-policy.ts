// What each role may do on the API, by path: a dispatch table read by the one guard. Reads
// need a viewer, writes an editor, except the paths listed here; a route added anywhere else
// gets the default, so no new route can forget to refuse a viewer's write.
import { CSRF_HEADER, type Role } from "@vantage/protocol";

/** "public": no credentials at all (login). Otherwise the least role allowed. */
export type Requirement = "public" | Role;

interface Rule {
  read: Requirement;
  write: Requirement;
}

const ADMIN_ONLY: Rule = { read: "admin", write: "admin" };
const DEFAULT_RULE: Rule = { read: "viewer", write: "editor" };

/** Most specific first: the first whose path is the request's path or a parent of it wins. */
const RULES: ReadonlyArray<[path: string, rule: Rule]> = [
  ["/api/v1/auth/login", { read: "public", write: "public" }],
  // Who am I, and logout: anyone signed in, a viewer too.
  ["/api/v1/auth", { read: "viewer", write: "viewer" }],
  ["/api/v1/users", ADMIN_ONLY],
  ["/api/v1/tokens", ADMIN_ONLY],
  ["/api/v1/settings", ADMIN_ONLY],
  // Bundles name secrets an admin stored; an editor applying them may see which exist.
  ["/api/v1/config/secrets", { read: "editor", write: "admin" }],
];

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const isReadMethod = (method: string): boolean => READ_METHODS.has(method.toUpperCase());

/** What a request of `method` on `path` requires. */
export function requirementOf(method: string, path: string): Requirement {
  const rule = RULES.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1] ?? DEFAULT_RULE;
  return isReadMethod(method) ? rule.read : rule.write;
}

/** Why a caller below the required role is refused, by the role required; reads and writes say it differently. */
const ROLE_NEEDED: Record<Role, { read: string; write: string }> = {
  viewer: { read: "", write: "" },
  editor: { read: "a viewer may not read it", write: "a viewer may not write" },
  admin: { read: "only an admin may use it", write: "only an admin may use it" },
};

/**
 * The 403 answers the API's guard may give on a route, from this policy: the one place the API's
 * description learns them, so every route documents them and none can forget. A write signed
 * in by the session cookie also needs the session's CSRF token.
 */
export function accessErrorsOf(method: string, path: string): Record<number, string> {
  if (!path.startsWith("/api/v1/")) return {};
  const required = requirementOf(method, path);
  if (required === "public") return {};
  const reasons: string[] = [];
  const needed = ROLE_NEEDED[required][isReadMethod(method) ? "read" : "write"];
  if (needed !== "") reasons.push(`The caller's role may not do this (\`forbidden\`): ${needed}.`);
  if (!isReadMethod(method)) reasons.push(`A write signed in by the session cookie without the session's \`${CSRF_HEADER}\` header (\`csrf_token_invalid\`).`);
  return reasons.length === 0 ? {} : { 403: reasons.join(" ") };
}
