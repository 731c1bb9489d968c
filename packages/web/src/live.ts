// Live updates: reads the core's server-sent events of entity changes (GET /api/v1/events,
// issue #13; a run's start and status are changes of the kind automation-run-status) and
// invalidates the queries each entity kind feeds, so open screens re-fetch.
// A fetch stream rather than EventSource: EventSource cannot send the Authorization header
// the admin token needs. It resumes with Last-Event-ID as EventSource would. Where the core
// has no such endpoint yet (404), it stops and the screens re-fetch on window focus only.
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { authHeaders, currentCredentials, signOutIfStill } from "./auth.ts";

/**
 * The queries an entity kind's changes make stale, by key prefix; only kinds the core defines (an
 * unknown kind makes the stream answer 400). Automation definitions are not entities: their
 * screens re-fetch on focus; their runs are (`automation-run-status`).
 */
export const QUERIES_BY_KIND: Readonly<Record<string, readonly QueryKey[]>> = {
  "satellite-connection": [["satellites"], ["overview", "events"]],
  // The list's health and bars and an open check's screen; not the list's pages (definitions do not change with health).
  "check-health": [["checks", "summaries"], ["check"], ["overview"]],
  // A run started, or its status moved on: the events that fired runs and the runs' own screens.
  "automation-run-status": [
    ["overview", "events"],
    ["automations", "runs"],
    ["automations", "run"],
  ],
};

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * The text/event-stream parser (WHATWG HTML §9.2.6): lines split on CRLF, LF or CR, `field:
 * value` with one optional space, comments ignored, an event dispatched on a blank line
 * when it has data. Fed chunks as they arrive; a line split across chunks is kept.
 */
export function createSseParser(): (chunk: string) => SseEvent[] {
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  return (chunk) => {
    buffer += chunk;
    const events: SseEvent[] = [];
    // A \r at the very end may be the first half of a \r\n: it waits for the next chunk.
    const heldReturn = buffer.endsWith("\r");
    const lines = (heldReturn ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
    // The last piece has no line end yet.
    buffer = (lines.pop() ?? "") + (heldReturn ? "\r" : "");
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) events.push({ id, event: event || "message", data: data.join("\n") });
        data = [];
        event = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id" && !value.includes("\0")) id = value;
    }
    return events;
  };
}

/** The entity kind a change event names, if its data is a change. */
function kindOf(data: string): string | undefined {
  try {
    const change = JSON.parse(data) as { kind?: unknown };
    return typeof change.kind === "string" ? change.kind : undefined;
  } catch {
    return undefined;
  }
}

export interface LiveOptions {
  queryClient: Pick<QueryClient, "invalidateQueries">;
  fetch?: typeof fetch;
  /** Changes arriving within this window cost one invalidation per kind (default 250 ms). */
  coalesceMs?: number;
  /** Waits before reconnecting after the stream broke, growing to maxDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

export type LiveState = "connecting" | "live" | "unavailable" | "stopped";

/** Follows the event stream until the returned stop is called. */
export function startLive(options: LiveOptions, onState: (state: LiveState) => void = () => undefined): () => void {
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const coalesceMs = options.coalesceMs ?? 250;
  const kinds = Object.keys(QUERIES_BY_KIND).join(",");
  const controller = new AbortController();
  let lastEventId: string | undefined;
  let retryDelay = options.retryDelayMs ?? 1_000;
  const pending = new Set<string>();
  let flushTimer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    flushTimer = undefined;
    for (const kind of pending) for (const queryKey of QUERIES_BY_KIND[kind] ?? []) void options.queryClient.invalidateQueries({ queryKey });
    pending.clear();
  };
  const changed = (kind: string) => {
    if (!(kind in QUERIES_BY_KIND)) return;
    pending.add(kind);
    flushTimer ??= setTimeout(flush, coalesceMs);
  };

  const follow = async (): Promise<"retry" | "done"> => {
    onState("connecting");
    const credentials = currentCredentials();
    const headers: Record<string, string> = { ...authHeaders(), accept: "text/event-stream" };
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    const response = await doFetch(`/api/v1/events?kind=${encodeURIComponent(kinds)}`, { headers, signal: controller.signal, cache: "no-store" });
    if (response.status === 401) {
      void signOutIfStill(credentials);
      return "done";
    }
    // No endpoint on this core yet (or not an event stream): focus re-fetching is all there is.
    if (response.status === 404 || !response.headers.get("content-type")?.startsWith("text/event-stream") || !response.body) {
      onState("unavailable");
      return "done";
    }
    if (!response.ok) return "retry";
    onState("live");
    retryDelay = options.retryDelayMs ?? 1_000;
    // The first connect: what changed between the screens' first fetch and now was not streamed.
    if (lastEventId === undefined) for (const kind of Object.keys(QUERIES_BY_KIND)) changed(kind);
    const parse = createSseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "retry";
      for (const event of parse(value)) {
        if (event.id !== undefined) lastEventId = event.id;
        const kind = kindOf(event.data);
        if (kind) changed(kind);
      }
    }
  };

  void (async () => {
    while (!controller.signal.aborted) {
      let outcome: "retry" | "done";
      try {
        outcome = await follow();
      } catch {
        outcome = "retry";
      }
      if (outcome === "done" || controller.signal.aborted) return;
      onState("connecting");
      await new Promise((resolve) => setTimeout(resolve, retryDelay));
      retryDelay = Math.min(retryDelay * 2, options.maxRetryDelayMs ?? 30_000);
    }
  })();

  return () => {
    controller.abort();
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    onState("stopped");
  };
}
