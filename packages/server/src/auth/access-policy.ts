// What each role may do on the API, by path: a dispatch table read by the one guard. Reads
// need a viewer, writes an editor, except the paths listed here; a route added anywhere else
// gets the default, so no new route can forget to refuse a viewer's write.
import type { Role } from "@vantage/protocol";

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
