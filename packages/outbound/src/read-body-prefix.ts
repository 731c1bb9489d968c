// Reads at most a few bytes of a response body and lets the rest go: a receiver's answer is
// kept for records and error messages, and a huge or endless one must not fill memory.
import type { Readable } from "node:stream";

/**
 * One read of a body's prefix. A class, not closures: it runs once per check run, and the
 * runtime (tsx, with esbuild's keepNames) defines a `name` on every named closure it creates.
 */
class PrefixReader {
  private readonly decoder = new TextDecoder();
  private text = "";
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
    this.text += this.decoder.decode(chunk, { stream: true });
    if (this.bytes >= this.maxBytes) this.finish(false);
  }

  /** `whole`: the body ended, so a character the last chunk left open is decoded too. */
  finish(whole: boolean): void {
    if (this.done) return;
    this.done = true;
    // Releases the connection; the unread rest is discarded.
    this.body.destroy();
    this.resolve(whole ? this.text + this.decoder.decode() : this.text);
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
