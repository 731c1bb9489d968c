// When a maintenance window is on (pure): its occurrence active at an instant or the next one,
// a one-off window's single span or a weekly recurrence's, computed in the window's IANA time
// zone so "Sunday 02:00 Europe/Berlin" stays 02:00 local across daylight saving changes.
import { type MaintenanceWindowDefinition, WEEKDAYS, type Weekday } from "@vantage/protocol";

const DAY_MS = 24 * 60 * 60 * 1000;

/** One occurrence, epoch milliseconds, [start, end). */
export interface Occurrence {
  start: number;
  end: number;
}

type Schedule = Pick<MaintenanceWindowDefinition, "start" | "end" | "recurrence">;

/**
 * The occurrence active at `now` (overlapping or touching occurrences count as one), else the
 * next one; null when none is left.
 */
export function occurrenceAt(window: Schedule, now: number): Occurrence | null {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  if (!window.recurrence) return end > now ? { start, end } : null;
  const { timeZone, until } = window.recurrence;
  const duration = end - start;
  const last = until === undefined ? Infinity : Date.parse(until);
  const first = wallClock(start, timeZone);
  const days = new Set<number>(window.recurrence.days?.map(weekdayNumber) ?? [weekdayOf(first.day)]);
  // Every occurrence that can touch [now, now + a week]: from the local day before one that could still be running.
  const fromDay = Math.max(first.day, wallClock(Math.max(now - duration, start), timeZone).day - 1);
  const spans: Occurrence[] = [];
  for (let day = fromDay; day <= fromDay + 16; day++) {
    if (!days.has(weekdayOf(day))) continue;
    const at = zonedInstant(day, first.timeOfDayMs, timeZone);
    if (at < start || at > last) continue;
    const previous = spans.at(-1);
    if (previous && at <= previous.end) previous.end = Math.max(previous.end, at + duration);
    else spans.push({ start: at, end: at + duration });
  }
  return spans.find((span) => span.end > now) ?? null;
}

/** The instant the flag must next be looked at: the start while it is ahead, else the end. */
export function nextBoundary(occurrence: Occurrence | null, now: number): number | null {
  if (occurrence === null) return null;
  return occurrence.start > now ? occurrence.start : occurrence.end;
}

export const isActive = (occurrence: Occurrence | null, now: number): boolean => occurrence !== null && occurrence.start <= now && now < occurrence.end;

/** 0 = Sunday … 6 = Saturday, of a day counted from 1970-01-01. */
const weekdayOf = (day: number): number => new Date(day * DAY_MS).getUTCDay();
const weekdayNumber = (day: Weekday): number => (WEEKDAYS.indexOf(day) + 1) % 7;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall clock at `instant` in the zone, as epoch milliseconds of that wall clock read as UTC. */
function wallAsUtc(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    formatterOf(timeZone)
      .formatToParts(instant)
      .map((part) => [part.type, Number(part.value)]),
  );
  const milliseconds = ((instant % 1000) + 1000) % 1000;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!, milliseconds);
}

/** The local day (counted from 1970-01-01) and time of day of an instant in the zone. */
function wallClock(instant: number, timeZone: string): { day: number; timeOfDayMs: number } {
  const wall = wallAsUtc(instant, timeZone);
  const day = Math.floor(wall / DAY_MS);
  return { day, timeOfDayMs: wall - day * DAY_MS };
}

/**
 * The instant a local day and time of day is in the zone. A wall time that happens twice (the
 * autumn change) takes the first; one that never happens (the spring gap) lands just after it.
 */
function zonedInstant(day: number, timeOfDayMs: number, timeZone: string): number {
  const wall = day * DAY_MS + timeOfDayMs;
  // The zone's offsets half a day before and after: the wall time reads with one or both of them.
  const offsets = [wall - DAY_MS / 2, wall + DAY_MS / 2].map((instant) => wallAsUtc(instant, timeZone) - instant);
  const readings = offsets.map((offset) => wall - offset).filter((instant) => wallAsUtc(instant, timeZone) === wall);
  return readings.length > 0 ? Math.min(...readings) : wall - offsets[0]!;
}
