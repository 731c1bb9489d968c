// The "safe text" rule: a string Vantage accepts must be one PostgreSQL can store and any
// strict JSON parser can read back, so it holds no NUL character and no unpaired UTF-16 surrogate.
import { z } from "zod";

// NUL, a high surrogate with no low one after it, or a low surrogate with no high one before it.
// Linear: each alternative looks at most one code unit around the one it matches.
const UNSAFE_TEXT = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const UNSAFE_TEXT_REASONS = {
  nul: "must not contain a NUL character (\\u0000)",
  surrogate: "must not contain an unpaired UTF-16 surrogate (such as \\ud800)",
} as const;

/** Why `text` breaks the safe text rule, or undefined when it holds. */
export function unsafeTextReason(text: string): string | undefined {
  const found = UNSAFE_TEXT.exec(text)?.[0];
  if (found === undefined) return undefined;
  return found === "\0" ? UNSAFE_TEXT_REASONS.nul : UNSAFE_TEXT_REASONS.surrogate;
}

/** `z.string()` that holds the safe text rule; chain `trim`, `min`, `max`, … on it as usual. */
export function safeText(): z.ZodString {
  return z.string().superRefine((text, context) => {
    const reason = unsafeTextReason(text);
    if (reason !== undefined) context.addIssue({ code: "custom", message: reason, input: text });
  });
}
