// Reads what a server sends on a connection, bounded: until `expect` appears, or (without it)
// the first data; or until the server closes, the bound is reached, or the signal aborts —
// whichever comes first. Never throws: an abort still gives back what arrived.
import type { Socket } from "node:net";

export interface ReadResponse {
  text: string;
  /** Milliseconds from the start of reading to the first byte; absent when nothing came. */
  firstByteMs?: number;
  /** Why reading stopped. */
  ended: "found" | "first_data" | "closed" | "limit" | "aborted";
}

export function readResponse(socket: Socket, options: { expect?: string; maxBytes: number; signal: AbortSignal }): Promise<ReadResponse> {
  const started = performance.now();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  let firstByteMs: number | undefined;
  return new Promise<ReadResponse>((resolve) => {
    const finish = (ended: ReadResponse["ended"]) => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", onEnd);
      options.signal.removeEventListener("abort", onAbort);
      resolve({ text: text + decoder.decode(), ...(firstByteMs === undefined ? {} : { firstByteMs }), ended });
    };
    const onData = (chunk: Buffer) => {
      firstByteMs ??= Math.round((performance.now() - started) * 10) / 10;
      const room = options.maxBytes - bytes;
      const kept = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
      bytes += kept.byteLength;
      text += decoder.decode(kept, { stream: true });
      if (options.expect !== undefined && text.includes(options.expect)) finish("found");
      else if (bytes >= options.maxBytes) finish("limit");
      else if (options.expect === undefined) finish("first_data");
    };
    const onEnd = () => finish("closed");
    const onAbort = () => finish("aborted");
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.once("error", onEnd);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener("abort", onAbort, { once: true });
  });
}
