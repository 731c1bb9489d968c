// Reads at most a few bytes of a response body and lets the rest go: a receiver's answer is
// kept for records and error messages, and a huge or endless one must not fill memory.
import type { Readable } from "node:stream";

/**
 * The body's first `maxBytes` bytes as text (a character cut at the limit is dropped); what
 * arrived if reading fails. The rest is never buffered: the body is destroyed (its connection
 * released) as soon as the limit is reached. Read with its events rather than an async
 * iterator: one exchange per check run, and the iterator's promises and end-of-stream
 * watchers cost more than the read.
 */
export function readBodyPrefix(body: Readable, maxBytes: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const decoder = new TextDecoder();
    let text = "";
    let bytes = 0;
    let done = false;
    const finish = (tail: string) => {
      if (done) return;
      done = true;
      body.off("data", onData);
      // Releases the connection; the unread rest is discarded.
      body.destroy();
      resolve(text + tail);
    };
    const onData = (value: Buffer) => {
      const chunk = value.byteLength > maxBytes - bytes ? value.subarray(0, maxBytes - bytes) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
      if (bytes >= maxBytes) finish("");
    };
    body.on("data", onData);
    body.once("end", () => finish(decoder.decode()));
    // Cut off mid-body (timeout, reset, closed early): what arrived still says something.
    body.once("error", () => finish(""));
    body.once("close", () => finish(""));
  });
}
