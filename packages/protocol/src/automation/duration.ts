// Durations in automation definitions: a string such as "500ms", "5s", "10m", "2h", "1d",
// or a whole number of milliseconds. Parsed here so the core and the UI agree on units.
import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/** The longest `delay` or `wait_until` timeout an automation may ask for. */
export const MAX_AUTOMATION_DELAY_MS = 30 * UNIT_MS.d;

export const durationSchema = z.union([
  z.number().int().nonnegative(),
  z.string().regex(DURATION_PATTERN, 'must be milliseconds or a number with a unit: "500ms", "5s", "10m", "2h", "1d"'),
]);
export type Duration = z.infer<typeof durationSchema>;

/** Milliseconds of a duration that `durationSchema` accepted; NaN for anything else. */
export function durationMs(duration: Duration): number {
  if (typeof duration === "number") return duration;
  const match = DURATION_PATTERN.exec(duration);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
}

/** A duration of at most `maxMs`, with the limit in the message. */
export function boundedDurationSchema(maxMs: number, label: string) {
  // Refinements run even when the union already failed: NaN must not add a second issue.
  return durationSchema.refine((duration) => !(durationMs(duration) > maxMs), { message: `must be at most ${label}` });
}
