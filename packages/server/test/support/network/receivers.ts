// Local fake receivers for notification tests on 127.0.0.1, port 0: an HTTP(S) server that
// records every raw request (never deduplicating), and an SMTP server from smtp-server.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Epoch milliseconds when the request was recorded. */
  receivedAt: number;
}

/** How the receiver answers a request: a status, a text body and any extra headers (e.g. Location). */
export interface HttpAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port>, or https:// when started with a certificate. */
  origin: string;
  requests: ReceivedRequest[];
  /** How the next requests are answered; `hang` never answers. */
  answer(response: HttpAnswer | "hang"): void;
  /** Answers the next requests with these, in order, before falling back to `answer`. */
  answerNext(...responses: HttpAnswer[]): void;
  /** Calls `listener` after each request is recorded; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Starts the receiver; with `tls`, it serves HTTPS with that key and certificate. */
export async function startHttpReceiver(options: { tls?: { key: string; cert: string } } = {}): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  let answer: HttpAnswer | "hang" = { status: 200, body: "ok" };
  const queued: HttpAnswer[] = [];
  const listeners = new Set<() => void>();
  const hanging: ServerResponse[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({
        method: request.method!,
        path: request.url!,
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
      });
      const next = queued.shift() ?? answer;
      if (next === "hang") hanging.push(response);
      else response.writeHead(next.status, { "content-type": "text/plain", ...next.headers }).end(next.body ?? "");
      listeners.forEach((listener) => listener());
    });
  };
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    answer: (next) => {
      answer = next;
    },
    answerNext: (...responses) => void queued.push(...responses),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  /** The authenticated user, when the client logged in. */
  user: string | undefined;
  raw: string;
}

export interface SmtpReceiver {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** Plain SMTP (no STARTTLS) with optional login: `username` / `password` is the only valid pair. */
export async function startSmtpReceiver(credentials: { username: string; password: string }): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: true,
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.username && auth.password === credentials.password) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const envelope = session.envelope;
        messages.push({
          from: envelope.mailFrom === false ? undefined : envelope.mailFrom.address,
          to: envelope.rcptTo.map((recipient) => recipient.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
