// Durations in automation definitions: a string such as "500ms", "5s", "10m", "2h", "1d",
// or a whole number of milliseconds. Parsed here so the core and the UI agree on units.
import toRegexRange from "to-regex-range";
import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;
const FORMAT_MESSAGE = 'must be milliseconds or a number with a unit: "500ms", "5s", "10m", "2h", "1d"';

/** The longest `delay` or `wait_until` timeout an automation may ask for. */
export const MAX_AUTOMATION_DELAY_MS = 30 * UNIT_MS.d;

export const durationSchema = z.union([z.number().int().nonnegative(), z.string().regex(DURATION_PATTERN, FORMAT_MESSAGE)]);
export type Duration = z.infer<typeof durationSchema>;

/** Milliseconds of a duration that `durationSchema` accepted; NaN for anything else. */
export function durationMs(duration: Duration): number {
  if (typeof duration === "number") return duration;
  const match = DURATION_PATTERN.exec(duration);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
}

/**
 * The strings of durations up to `maxMs`, as one pattern: for each unit, the counts that fit
 * (leading zeros allowed, as DURATION_PATTERN allows them). A pattern, unlike a refinement,
 * is part of the JSON Schema, so editors refuse "31d" as the core does.
 */
function boundedDurationPattern(maxMs: number): RegExp {
  const units = Object.entries(UNIT_MS).map(([unit, ms]) => `(?:${toRegexRange(0, Math.floor(maxMs / ms))})${unit}`);
  return new RegExp(`^0*(?:${units.join("|")})$`);
}

/** A duration of at most `maxMs`, with the limit in the message. */
export function boundedDurationSchema(maxMs: number, label: string) {
  const message = `must be at most ${label}`;
  return z.union([
    z.number().int().nonnegative().max(maxMs, message),
    // One pattern for format and limit; its message says which of them "5 minutes" or "31d" broke.
    z.string().regex(boundedDurationPattern(maxMs), { error: (issue) => (DURATION_PATTERN.test(String(issue.input)) ? message : FORMAT_MESSAGE) }),
  ]);
}
