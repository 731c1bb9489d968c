// A server-sent events client over a real HTTP socket, as a browser's EventSource or a script
// would be: it parses frames as they arrive and lets a test await "these events arrived".
import http from "node:http";
import { TEST_ADMIN_TOKEN } from "./api/api-app.ts";
import { createSignal, waitFor } from "./instance.ts";

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseConnection {
  status: number;
  /** The body of a refused request (status ≠ 200). */
  body: string;
  events: SseEvent[];
  /** Comment lines received (heartbeats). */
  comments: number;
  /** Whether the server ended or cut the stream. */
  ended: boolean;
  /** Resolves once `predicate` holds over what arrived (re-checked on every frame and at the end). */
  until(predicate: (connection: SseConnection) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Stops reading the socket (a stalled tab): the server's writes back up. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** The change events (`event: change`) received, parsed. */
export function changesOf(connection: SseConnection): Array<{ seq: number; kind: string; id: string; changeId: string; next: unknown }> {
  return connection.events.filter((event) => event.event === "change").map((event) => JSON.parse(event.data));
}

export function openSse(url: string, options: { lastEventId?: string; token?: string | null } = {}): Promise<SseConnection> {
  const headers: Record<string, string> = { accept: "text/event-stream" };
  const token = options.token === undefined ? TEST_ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  const arrived = createSignal();
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      let buffer = "";
      let closed: Promise<void> | undefined;
      const connection: SseConnection = {
        status: response.statusCode ?? 0,
        body: "",
        events: [],
        comments: 0,
        ended: false,
        until: async (predicate, what, timeoutMs = 20_000) => {
          await waitFor(() => predicate(connection) || connection.ended, arrived.subscribe, timeoutMs, what);
          if (!predicate(connection)) throw new Error(`the stream ended before ${what}`);
        },
        pause: () => void response.pause(),
        resume: () => void response.resume(),
        close: () =>
          (closed ??= new Promise<void>((done) => {
            if (response.socket.destroyed) return done();
            response.socket.once("close", () => done());
            request.destroy();
          })),
      };
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (connection.status !== 200) {
          connection.body += chunk;
          return;
        }
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          let comment = false;
          for (const line of frame.split("\n")) {
            if (line.startsWith(":")) comment = true;
            else if (line.startsWith("event: ")) event.event = line.slice(7);
            else if (line.startsWith("id: ")) event.id = line.slice(4);
            else if (line.startsWith("data: ")) event.data += line.slice(6);
          }
          if (comment) connection.comments++;
          else connection.events.push(event);
        }
        arrived.emit();
      });
      const ended = () => {
        connection.ended = true;
        arrived.emit();
      };
      response.on("end", ended);
      response.on("error", ended);
      response.on("close", ended);
      if (connection.status === 200) resolve(connection);
      else response.on("end", () => resolve(connection));
    });
    request.on("error", reject);
  });
}
