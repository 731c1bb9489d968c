// The web-stream form of an SSE stream (servers other than Node's, and app.request() in tests):
// frames reach the reader in order, wait while it does not read, and a reader that lets the
// queue fill is cut off.
import { describe, expect, it } from "vitest";
import { createWebSseStream, sseFrame } from "../../src/events/sse-stream.ts";

const decoder = new TextDecoder();

function open(maxQueuedFrames: number) {
  const closes: string[] = [];
  const stream = createWebSseStream({ maxQueuedFrames, onClose: (reason) => closes.push(reason) });
  return { stream, closes, reader: stream.body.getReader() };
}

describe("createWebSseStream", () => {
  it("hands frames to the reader in order, those sent while it was not reading as one chunk", async () => {
    const { stream, reader } = open(10);
    stream.send(sseFrame("change", { n: 1 }, 1));
    stream.send(sseFrame("change", { n: 2 }, 2));
    stream.send(sseFrame("change", { n: 3 }, 3));
    const first = decoder.decode((await reader.read()).value);
    const rest = decoder.decode((await reader.read()).value);
    expect(first).toBe('id: 1\nevent: change\ndata: {"n":1}\n\n');
    expect(rest).toBe('id: 2\nevent: change\ndata: {"n":2}\n\nid: 3\nevent: change\ndata: {"n":3}\n\n');
  });

  it("ends after what is queued when ended, and reports it once", async () => {
    const { stream, reader, closes } = open(10);
    stream.send(sseFrame("ready", {}));
    stream.send(sseFrame("change", {}));
    stream.end();
    expect(stream.send(sseFrame("change", {}))).toBe(false);
    const chunks: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value));
    }
    expect(chunks.join("")).toBe("event: ready\ndata: {}\n\nevent: change\ndata: {}\n\n");
    expect(closes).toEqual(["ended"]);
  });

  it("cuts off a reader that lets its queue fill, and waits for room otherwise", async () => {
    const { stream, reader, closes } = open(2);
    expect(stream.send(sseFrame("change", { n: 1 }))).toBe(true); // handed on
    expect(stream.send(sseFrame("change", { n: 2 }))).toBe(true); // queued
    expect(stream.hasRoom(1)).toBe(true);
    expect(stream.send(sseFrame("change", { n: 3 }))).toBe(true); // queued: full
    expect(stream.hasRoom(1)).toBe(false);
    const room = stream.room(1);
    await reader.read(); // frame 1
    await reader.read(); // frames 2 and 3: the queue drained
    await room;
    stream.send(sseFrame("change", { n: 4 }));
    stream.send(sseFrame("change", { n: 5 }));
    stream.send(sseFrame("change", { n: 6 }));
    expect(stream.send(sseFrame("change", { n: 7 }))).toBe(false);
    expect(closes).toEqual(["slow client: its queue is full"]);
    await expect(reader.read()).rejects.toThrow("slow client");
  });

  it("counts a batch as the frames it holds toward the bound, not as one", async () => {
    const { stream, reader, closes } = open(3);
    const batch = (from: number, count: number) => Buffer.concat(Array.from({ length: count }, (_, i) => sseFrame("change", { n: from + i })));
    expect(stream.send(batch(1, 5), 5)).toBe(true); // handed on: nothing waits yet
    expect(stream.send(batch(6, 2), 2)).toBe(true); // queued: 2 of 3
    expect(stream.hasRoom(1)).toBe(true);
    expect(stream.hasRoom(2)).toBe(false);
    expect(stream.send(batch(8, 2), 2)).toBe(false); // 4 > 3: cut off
    expect(closes).toEqual(["slow client: its queue is full"]);
    await expect(reader.read()).rejects.toThrow("slow client");
  });
});
