// JSON Merge Patch (RFC 7396): a PATCH body is the shape of the changes — an object merges into
// the object at its place, `null` removes a field, anything else (arrays too) replaces it.
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * `target` with `patch` applied; neither is changed. Keys such as `__proto__` are plain fields
 * here (Object.fromEntries defines them), never a prototype. Recursion follows the patch,
 * which the API's edge has bounded in depth.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const merged = new Map(Object.entries(isObject(target) ? target : {}));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, applyMergePatch(merged.get(key), value));
  }
  return Object.fromEntries(merged);
}
