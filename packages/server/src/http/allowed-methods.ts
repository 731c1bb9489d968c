// Which methods an app's routes answer on a path, so a request with another method is told
// 405 and the methods to use (the Allow header) instead of a 404 that says the path is wrong.
import type { Hono } from "hono";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";

// The order the Allow header lists them in; HEAD is answered wherever GET is (Hono does that).
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * The methods of `app`'s routes (not its middleware, which matches every method) on a path.
 * Built on first use, once every route is added; matched by a router of the same rules.
 */
export function allowedMethods(app: Hono): (path: string) => string[] {
  let byPath: { router: TrieRouter<true>; methods: string[] } | undefined;
  return (path) => {
    byPath ??= routeTable(app);
    const { router, methods } = byPath;
    const allowed = new Set(methods.filter((method) => router.match(method, path)[0].length > 0));
    if (allowed.has("GET")) allowed.add("HEAD");
    return [...allowed].sort((a, b) => rank(a) - rank(b));
  };
}

function routeTable(app: Hono): { router: TrieRouter<true>; methods: string[] } {
  const router = new TrieRouter<true>();
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === METHOD_NAME_ALL) continue;
    router.add(route.method, route.path, true);
    methods.add(route.method);
  }
  return { router, methods: [...methods] };
}

const rank = (method: string): number => {
  const at = METHOD_ORDER.indexOf(method);
  return at === -1 ? METHOD_ORDER.length : at;
};
