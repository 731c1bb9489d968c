// Times as people read them in lists: "12 s ago", "3 min ago", "yesterday"-ish ranges, and
// durations between two instants. Pure functions of (time, now) so tests need no clock.

/** "just now", "42 s ago", "5 min ago", "3 h ago", "4 d ago"; "never" for null; future times read "just now". */
export function formatAgo(iso: string | null, now: number): string {
  if (iso === null) return "never";
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return "unknown";
  const seconds = Math.floor((now - then) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "850 ms", "4.2 s", "3 min 20 s", "2 h 5 min"; null while the end is unknown. */
export function formatDuration(startIso: string | null, endIso: string | null): string | null {
  if (startIso === null || endIso === null) return null;
  const ms = Date.parse(endIso) - Date.parse(startIso);
  if (!Number.isFinite(ms) || ms < 0) return null;
  return formatSpan(ms);
}

/** A length of time in ms as formatDuration says it; long spans in days and hours. */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The exact local time, for a title attribute behind a relative one. */
export const formatExact = (iso: string | null): string => (iso === null ? "" : new Date(iso).toLocaleString());
