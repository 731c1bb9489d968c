// Reads at most a few bytes of a response body and lets the rest go: a receiver's answer is
// kept for records and error messages, and a huge or endless one must not fill memory.
import type { Readable } from "node:stream";

/** The body's first `maxBytes` bytes as text (a character cut at the limit is dropped); what arrived if reading fails. */
export async function readBodyPrefix(body: Readable, maxBytes: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    for await (const value of body as AsyncIterable<Buffer>) {
      const chunk = value.byteLength > maxBytes - bytes ? value.subarray(0, maxBytes - bytes) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
      if (bytes >= maxBytes) return text;
    }
    return text + decoder.decode();
  } catch {
    // Cut off mid-body (timeout, reset): what arrived still says something.
    return text;
  } finally {
    // Releases the connection; the unread rest is discarded.
    body.destroy();
  }
}
