// `${secret:NAME}` in a bundle: replaced by the stored value before the core plans or applies
// (a missing secret is an issue at its place), and the other way round on everything the core
// answers (plans, exports): every stored value shown as its reference, so none is ever echoed.
import { type BundleResource, type Issue, SECRET_REFERENCE } from "@vantage/protocol";

/** `value` with every string rewritten by `rewrite(text, path)`; objects and arrays walked. */
function mapStrings(value: unknown, path: string, rewrite: (text: string, path: string) => string): unknown {
  if (typeof value === "string") return rewrite(value, path);
  if (Array.isArray(value)) return value.map((item, index) => mapStrings(item, `${path}.${index}`, rewrite));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, `${path}.${key}`, rewrite)]));
  }
  return value;
}

/** The resources with every `${secret:NAME}` replaced; issues at `resources.<i>.spec.…` for names not stored. */
export function resolveSecretReferences(
  resources: readonly BundleResource[],
  secrets: ReadonlyMap<string, string>,
): { resources: BundleResource[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const resolved = resources.map((resource, index) => {
    const spec = mapStrings(resource.spec, `resources.${index}.spec`, (text, path) =>
      text.replace(SECRET_REFERENCE, (reference, name: string) => {
        const value = secrets.get(name);
        if (value === undefined) issues.push({ path, message: `no secret named ${name} is stored (referenced as ${reference}): vantage secret set ${name}` });
        return value ?? "";
      }),
    );
    return { ...resource, spec: spec as BundleResource["spec"] };
  });
  return { resources: resolved, issues };
}

/** Replaces every `[name, value]` value inside `value`'s strings by its `${secret:NAME}` (the longest first, so none hides in another). */
export function maskSecrets<T>(value: T, secrets: ReadonlyArray<readonly [string, string]>): T {
  if (secrets.length === 0) return value;
  const ordered = [...secrets].sort(([, a], [, b]) => b.length - a.length);
  return mapStrings(value, "", (text) => {
    let masked = text;
    for (const [name, secret] of ordered) if (masked.includes(secret)) masked = masked.split(secret).join(`\${secret:${name}}`);
    return masked;
  }) as T;
}
