// Reads at most a few bytes of a response body and lets the rest go: a receiver's answer is
// kept for records and error messages, and a huge or endless one must not fill memory.
import type { Response } from "undici";

/** The body's first `maxBytes` bytes as text (a character cut at the limit is dropped); what arrived if reading fails. */
export async function readBodyPrefix(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const chunk = value.byteLength > maxBytes - bytes ? value.subarray(0, maxBytes - bytes) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    return text;
  } catch {
    // Cut off mid-body (timeout, reset): what arrived still says something.
    return text;
  } finally {
    // Releases the connection; the unread rest is discarded.
    await reader.cancel().catch(() => undefined);
  }
}
