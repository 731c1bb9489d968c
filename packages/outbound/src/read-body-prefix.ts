// Reads at most a few bytes of a response body and lets the rest go: a receiver's answer is
// kept for records and error messages, and a huge or endless one must not fill memory.
import type { Readable } from "node:stream";

/**
 * One decoder for every read: a TextDecoder per answer cost the webhook client more than
 * decoding its few bytes. Safe to share because each read decodes its bytes in one synchronous
 * go at its end (`decodePrefix`), leaving the decoder reset: nothing is held between reads.
 */
const DECODER = new TextDecoder();

/**
 * `bytes` as text, as a streaming decoder fed them chunk by chunk would give it: `whole` (the
 * body ended) decodes a character the bytes leave open as U+FFFD; otherwise (cut at the limit,
 * or cut off) that character is dropped. Streaming decoding does not depend on where chunks
 * split, so decoding them at once is the same text.
 */
function decodePrefix(chunks: Buffer[], whole: boolean): string {
  if (chunks.length === 0) return "";
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const text = DECODER.decode(bytes, { stream: true });
  // The flush resets the shared decoder; what it gives is the open character's U+FFFD, if any.
  const rest = DECODER.decode();
  return whole ? text + rest : text;
}

/**
 * One read of a body's prefix. A class, not closures: it runs once per check run, and the
 * runtime (tsx, with esbuild's keepNames) defines a `name` on every named closure it creates.
 */
class PrefixReader {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private done = false;

  constructor(
    private readonly body: Readable,
    private readonly maxBytes: number,
    private readonly resolve: (text: string) => void,
  ) {}

  data(value: Buffer): void {
    if (this.done) return;
    const room = this.maxBytes - this.bytes;
    const chunk = value.byteLength > room ? value.subarray(0, room) : value;
    this.bytes += chunk.byteLength;
    this.chunks.push(chunk);
    if (this.bytes >= this.maxBytes) this.finish(false);
  }

  /** `whole`: the body ended, so a character the last chunk left open is decoded too. */
  finish(whole: boolean): void {
    if (this.done) return;
    this.done = true;
    // Releases the connection; the unread rest is discarded.
    this.body.destroy();
    this.resolve(decodePrefix(this.chunks, whole));
  }
}

/**
 * The body's first `maxBytes` bytes as text (a character cut at the limit is dropped); what
 * arrived if reading fails. The rest is never buffered: the body is destroyed (its connection
 * released) as soon as the limit is reached. Read with its events rather than an async
 * iterator: one exchange per check run, and the iterator's promises and end-of-stream
 * watchers cost more than the read.
 */
export function readBodyPrefix(body: Readable, maxBytes: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const reader = new PrefixReader(body, maxBytes, resolve);
    body.on("data", (value: Buffer) => reader.data(value));
    body.once("end", () => reader.finish(true));
    // Cut off mid-body (timeout, reset, closed early): what arrived still says something.
    body.once("error", () => reader.finish(false));
    body.once("close", () => reader.finish(false));
  });
}
