// One client's server-sent event stream: frames go to the socket while it drains and wait in a
// bounded queue while it does not. A client that lets the queue fill is cut off, never buffered
// without bound; the frames themselves are built once per change, shared by clients.
import type { EntityChanged } from "@vantage/protocol";

const encoder = new TextEncoder();

/**
 * An SSE frame: `id` when given, `event`, one `data` line (JSON never holds a raw newline),
 * encoded once: the same bytes go to every client that gets it.
 */
export function sseFrame(event: string, data: unknown, id?: number): Uint8Array {
  return encoder.encode(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The frame of one change; its id is the change's outbox seq (what Last-Event-ID returns). */
export function changeFrame(change: EntityChanged & { seq: number }): Uint8Array {
  return sseFrame("change", change, change.seq);
}

/** A comment line: clients ignore it; it keeps proxies and dead-peer detection honest. */
export const HEARTBEAT_FRAME = encoder.encode(": heartbeat\n\n");

export interface SseStream {
  /**
   * Queues a frame (or `frames` frames concatenated: a batch counts as what it holds toward the
   * bound); false when the stream is closed, or was just cut off because its queue is full.
   */
  send(frame: Uint8Array, frames?: number): boolean;
  /** Whether `frames` more fit in the queue now. */
  hasRoom(frames: number): boolean;
  /** Resolves once the queue has room for `frames` more (at once when it does), or the stream closed. */
  room(frames: number): Promise<void>;
  /** Whether the client can be written to no longer. */
  readonly closed: boolean;
  /** Sends what is queued, then ends the response (shutdown). */
  end(): void;
  /** Drops the client at once: queued frames are discarded and the connection cut. */
  cut(reason: string): void;
}

export interface SseStreamOptions {
  /** Frames that may wait for a client before it is cut off. */
  maxQueuedFrames: number;
  /** Called once when the stream ends for any reason (client gone, cut, end). */
  onClose(reason: string): void;
}

/** Where a stream's bytes go. */
interface FrameSink {
  /** Hands bytes on; false when the sink wants no more until it calls `ready`. */
  write(chunk: Uint8Array): boolean;
  end(): void;
  /** Drops the connection at once. */
  drop(reason: string): void;
}

/** The socket under a Node response, as the direct path writes to it. */
export interface NodeSocket {
  write(chunk: Uint8Array): boolean;
  once(event: "drain", listener: () => void): unknown;
  readonly destroyed: boolean;
}

/** The minimal Node response surface the direct path writes to (a `ServerResponse` whose head is sent). */
export interface NodeResponse {
  readonly socket: NodeSocket | null;
  /** Whether the body goes out in HTTP/1.1 chunks (false for an HTTP/1.0 client: the body ends with the connection). */
  readonly chunkedEncoding: boolean;
  end(): void;
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

const CRLF = Buffer.from("\r\n");
/** Chunk framing per shared chunk: built for the first socket it goes to, reused by the rest. */
const framedChunks = new WeakMap<Uint8Array, Buffer>();

/** A chunk with its HTTP/1.1 chunked-encoding size line and end: what `response.write` would put on the socket. */
function framedChunk(chunk: Uint8Array): Buffer {
  let framed = framedChunks.get(chunk);
  if (framed === undefined) {
    framed = Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`, "latin1"), chunk, CRLF]);
    framedChunks.set(chunk, framed);
  }
  return framed;
}

/**
 * The queue and its bound, over any sink: a frame goes straight to the sink while it takes
 * more, and waits in the queue (bounded: the slow-client rule) while it does not.
 */
function createFrameQueue(options: SseStreamOptions, sinkOf: (ready: () => void, gone: () => void) => FrameSink): SseStream {
  let queue: Uint8Array[] = [];
  /** Frames in `queue` (a chunk may hold several). */
  let queued = 0;
  let blocked = false;
  let closed = false;
  let ending = false;
  const roomWaiters = new Set<{ frames: number; resolve: () => void }>();

  const releaseRoom = () => {
    for (const waiter of roomWaiters) {
      if (closed || queued + waiter.frames <= options.maxQueuedFrames) {
        roomWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    queue = [];
    queued = 0;
    releaseRoom();
    options.onClose(reason);
  };

  const endNow = () => {
    finish("ended");
    sink.end();
  };

  /** The sink takes more: what waited goes out as one chunk (usually one frame: the shared bytes as they are). */
  const ready = () => {
    if (closed) return;
    blocked = false;
    if (queue.length > 0) {
      const chunk = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
      queue = [];
      queued = 0;
      blocked = !sink.write(chunk);
      releaseRoom();
    }
    if (ending && !blocked && !closed) endNow();
  };

  const sink = sinkOf(ready, () => finish("client went away"));

  const stream: SseStream = {
    send(frame, frames = 1) {
      if (closed || ending) return false;
      if (!blocked && queue.length === 0) {
        blocked = !sink.write(frame);
        return true;
      }
      queue.push(frame);
      queued += frames;
      if (queued > options.maxQueuedFrames) {
        stream.cut("slow client: its queue is full");
        return false;
      }
      return true;
    },
    hasRoom: (frames) => queued + frames <= options.maxQueuedFrames,
    room(frames) {
      if (closed || queued + frames <= options.maxQueuedFrames) return Promise.resolve();
      return new Promise((resolve) => roomWaiters.add({ frames, resolve }));
    },
    get closed() {
      return closed || ending;
    },
    end() {
      if (closed || ending) return;
      ending = true;
      if (!blocked && queue.length === 0) endNow();
    },
    cut(reason) {
      if (closed) return;
      finish(reason);
      sink.drop(reason);
    },
  };
  return stream;
}

/**
 * A stream written straight to the socket of a Node response whose head is sent: a chunk costs
 * one socket write while the socket keeps up, and waits for `drain` when it does not. Not
 * `response.write`: that formats a size line and corks the socket per call and per client,
 * where the framed bytes of a shared chunk are the same for every client (and the web-stream
 * path before it cost a promise per frame). The response still ends the body (its last chunk).
 */
export function createNodeSseStream(response: NodeResponse, options: SseStreamOptions): SseStream {
  return createFrameQueue(options, (ready, gone) => {
    response.once("close", gone);
    const { socket, chunkedEncoding } = response;
    return {
      write(chunk) {
        // A socket already gone: its response's close (or the one pending) ends the stream.
        if (socket === null || socket.destroyed) return true;
        const more = socket.write(chunkedEncoding ? framedChunk(chunk) : chunk);
        if (!more) socket.once("drain", ready);
        return more;
      },
      end: () => response.end(),
      drop: () => response.destroy(),
    };
  });
}

/** A stream as a web `ReadableStream` body: for servers that are not Node's (and `app.request()` in tests). */
export function createWebSseStream(options: SseStreamOptions): SseStream & { readonly body: ReadableStream<Uint8Array> } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let readyForMore: () => void = () => undefined;
  let goneAway: () => void = () => undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      // Called only when the reader wants more, i.e. once the previous chunk was taken.
      pull: () => readyForMore(),
      cancel: () => goneAway(),
    },
    { highWaterMark: 0 },
  );
  const stream = createFrameQueue(options, (ready, gone) => {
    readyForMore = ready;
    goneAway = gone;
    return {
      write(chunk) {
        controller.enqueue(chunk);
        return (controller.desiredSize ?? 0) > 0;
      },
      end: () => controller.close(),
      drop: (reason) => controller.error(new Error(reason)),
    };
  });
  return Object.assign(stream, { body });
}
