// @vitest-environment happy-dom
// The live feed: the event-stream parser reads what servers send however it is chunked, and
// the feed invalidates the queries of each changed kind, resumes with Last-Event-ID, and gives
// up (leaving focus re-fetching) where the core has no event stream.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSseParser, type LiveState, startLive } from "../src/live.ts";
import { signInWithToken } from "../src/auth.ts";

describe("the event-stream parser", () => {
  it("dispatches an event at each blank line with its id, type and joined data lines", () => {
    const parse = createSseParser();
    expect(parse('id: 7\nevent: change\ndata: {"kind":\ndata: "x"}\n\n: heartbeat\n\ndata: plain\n\n')).toEqual([
      { id: "7", event: "change", data: '{"kind":\n"x"}' },
      { id: "7", event: "message", data: "plain" },
    ]);
  });

  it("keeps a line split across chunks, and a CRLF split between them, as one line end", () => {
    const parse = createSseParser();
    expect(parse("id: 4\r")).toEqual([]);
    expect(parse("\ndata: a")).toEqual([]);
    expect(parse("bc\r\n")).toEqual([]);
    expect(parse("\r\n")).toEqual([{ id: "4", event: "message", data: "abc" }]);
  });

  it("dispatches nothing for a block without data, and takes a field without a colon as empty", () => {
    const parse = createSseParser();
    expect(parse("event: change\n\ndata\n\n")).toEqual([{ id: undefined, event: "message", data: "" }]);
  });
});

/** A response streaming `chunks`, then ending (or hanging until aborted, with `hang`). */
function streamResponse(chunks: string[], { hang = false, signal }: { hang?: boolean; signal?: AbortSignal } = {}): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      if (!hang) controller.close();
      else signal?.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

const change = (seq: number, kind: string) => `id: ${seq}\ndata: ${JSON.stringify({ kind, id: "x", seq })}\n\n`;

describe("the live feed", () => {
  afterEach(() => {
    vi.useRealTimers();
    sessionStorage.clear();
  });

  it("invalidates each changed kind's queries once per burst, and ignores kinds no screen shows", async () => {
    vi.useFakeTimers();
    signInWithToken("admin-token");
    const invalidated: unknown[] = [];
    const fetch = vi.fn(async (_url: string, init: RequestInit) =>
      streamResponse([change(1, "satellite-connection"), change(2, "satellite-connection"), change(3, "no-such-kind")], { hang: true, signal: init.signal! }),
    );
    const stop = startLive({
      queryClient: { invalidateQueries: async (filters) => void invalidated.push(filters?.queryKey) },
      fetch: fetch as typeof globalThis.fetch,
      coalesceMs: 100,
    });
    await vi.advanceTimersByTimeAsync(100);
    // The first connect refreshes every kind once (what changed before the stream began), the burst adds nothing more.
    expect(invalidated).toContainEqual(["satellites"]);
    expect(invalidated.filter((key) => JSON.stringify(key) === '["satellites"]')).toHaveLength(1);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe("/api/v1/events?kind=satellite-connection%2Ccheck-health%2Cautomation-run-status");
    expect(init.headers).toMatchObject({ authorization: "Bearer admin-token", accept: "text/event-stream" });
    stop();
  });

  it("reconnects after the stream ends, sending the last event id it saw", async () => {
    vi.useFakeTimers();
    const responses = [streamResponse([change(41, "check-health"), change(42, "check-health")])];
    const fetch = vi.fn(async (_url: string, init: RequestInit) => responses.shift() ?? streamResponse([], { hang: true, signal: init.signal! }));
    const stop = startLive({ queryClient: { invalidateQueries: async () => undefined }, fetch: fetch as typeof globalThis.fetch, retryDelayMs: 500 });
    await vi.advanceTimersByTimeAsync(499);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[1]![1].headers).toMatchObject({ "last-event-id": "42" });
    stop();
  });

  it("stops for good where the core has no event stream, so screens re-fetch on focus only", async () => {
    vi.useFakeTimers();
    const states: LiveState[] = [];
    const fetch = vi.fn(
      async () =>
        new Response(JSON.stringify({ error: { code: "not_found", message: "No route" } }), { status: 404, headers: { "content-type": "application/json" } }),
    );
    const stop = startLive({ queryClient: { invalidateQueries: async () => undefined }, fetch: fetch as typeof globalThis.fetch, retryDelayMs: 10 }, (state) =>
      states.push(state),
    );
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(states).toEqual(["connecting", "unavailable"]);
    stop();
  });

  it("signs out when the core refuses the token", async () => {
    signInWithToken("rotated-token");
    const fetch = vi.fn(async () => new Response("{}", { status: 401 }));
    const stop = startLive({ queryClient: { invalidateQueries: async () => undefined }, fetch: fetch as typeof globalThis.fetch });
    await vi.waitFor(() => expect(sessionStorage.getItem("vantage.adminToken")).toBeNull());
    stop();
  });
});
