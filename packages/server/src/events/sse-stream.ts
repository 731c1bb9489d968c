// One client's server-sent event stream: a bounded queue of frames that the HTTP response pulls
// only as fast as the socket drains. A client that lets the queue fill is cut off, never
// buffered without bound; the frames themselves are built once per change, shared by clients.
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
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  /** Queues a frame; false when the stream is closed, or was just cut off because its queue is full. */
  send(frame: Uint8Array): boolean;
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
  /**
   * Drops the connection (on Node, destroys the socket). Without it a cut errors the body, which
   * the HTTP adapter also answers by destroying the socket, but logs to the console as a crash.
   */
  drop?(): void;
}

export function createSseStream(options: SseStreamOptions): SseStream {
  let queue: Uint8Array[] = [];
  let closed = false;
  let ending = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let dataArrived: (() => void) | undefined;
  const roomWaiters = new Set<{ frames: number; resolve: () => void }>();

  const releaseRoom = () => {
    for (const waiter of roomWaiters) {
      if (closed || queue.length + waiter.frames <= options.maxQueuedFrames) {
        roomWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    queue = [];
    dataArrived?.();
    releaseRoom();
    options.onClose(reason);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      // Called only when the HTTP layer wants more, i.e. once the socket drained: frames that
      // arrive meanwhile wait in `queue`, whose bound is the slow-client rule.
      pull: async (c) => {
        while (queue.length === 0 && !closed && !ending) await new Promise<void>((resolve) => (dataArrived = resolve));
        dataArrived = undefined;
        if (queue.length > 0) {
          // Usually one frame (the socket keeps up): its shared bytes as they are.
          const chunk = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
          queue = [];
          c.enqueue(chunk);
          releaseRoom();
          return;
        }
        if (ending && !closed) {
          finish("ended");
          c.close();
        }
      },
      cancel: () => finish("client went away"),
    },
    { highWaterMark: 0 },
  );

  const stream: SseStream = {
    body,
    send(frame) {
      if (closed || ending) return false;
      queue.push(frame);
      if (queue.length > options.maxQueuedFrames) {
        stream.cut("slow client: its queue is full");
        return false;
      }
      dataArrived?.();
      return true;
    },
    hasRoom: (frames) => queue.length + frames <= options.maxQueuedFrames,
    room(frames) {
      if (closed || queue.length + frames <= options.maxQueuedFrames) return Promise.resolve();
      return new Promise((resolve) => roomWaiters.add({ frames, resolve }));
    },
    get closed() {
      return closed || ending;
    },
    end() {
      if (closed || ending) return;
      ending = true;
      dataArrived?.();
    },
    cut(reason) {
      if (closed) return;
      finish(reason);
      if (options.drop) options.drop();
      else controller?.error(new Error(reason));
    },
  };
  return stream;
}
