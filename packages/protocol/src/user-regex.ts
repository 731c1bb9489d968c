// Regular expressions written by users (an automation's `matches`, next a check's assertions,
// which the agent runs too) compiled on RE2's linear-time engine: no pattern freezes a process.
import { RE2JS, RE2JSException } from "re2js";

/** The longest pattern a user may write: far beyond a real one, and a bound on compile cost. */
export const MAX_USER_REGEX_LENGTH = 512;

/** A compiled user pattern; `test` is true if it matches any part of `input`, like RegExp's. */
export interface UserRegex {
  readonly source: string;
  test(input: string): boolean;
}

export type UserRegexResult = { ok: true; regex: UserRegex } | { ok: false; message: string };

// What RE2 refuses that backtracking engines accept, said in the user's words. A linear-time
// engine cannot offer these at all, so the message says so rather than only "invalid".
const UNSUPPORTED: ReadonlyArray<{ when: RegExp; say: string }> = [
  { when: /invalid escape sequence: `\\[1-9k]/, say: "backreferences (\\1, \\k<name>) are not supported" },
  {
    when: /invalid or unsupported Perl syntax: `\(\?[=!]|invalid named capture: `\(\?<[=!]/,
    say: "lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not supported",
  },
];

const RE2_SYNTAX = "patterns run on a linear-time engine (RE2 syntax)";

function refusal(error: RE2JSException): string {
  const unsupported = UNSUPPORTED.find((entry) => entry.when.test(error.message));
  if (unsupported) return `${unsupported.say}: ${RE2_SYNTAX}`;
  return `is not a valid regular expression: ${error.message.replace(/^error parsing regexp: /, "")} (${RE2_SYNTAX})`;
}

/** Compiles a user's pattern once; refuses one that is too long or not RE2 syntax, saying why. */
export function compileUserRegex(pattern: string): UserRegexResult {
  if (pattern.length > MAX_USER_REGEX_LENGTH) return { ok: false, message: `is longer than ${MAX_USER_REGEX_LENGTH} characters (${pattern.length})` };
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    if (error instanceof RE2JSException) return { ok: false, message: refusal(error) };
    throw error;
  }
  return { ok: true, regex: { source: pattern, test: (input) => compiled.test(input) } };
}
