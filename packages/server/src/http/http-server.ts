// Binds the Hono app to a Node HTTP server (the satellite gateway later shares its
// `upgrade` event) and closes it promptly: idle keep-alive sockets do not hold shutdown.
import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";
import { VantageError } from "../errors.ts";

export interface HttpServer {
  server: Server;
  /** `http://host:port` actually bound (port 0 resolves to the real port). */
  url: string;
  close(): Promise<void>;
}

type Address = { host: string; port: number };

/** Errors of listen() the operator fixes by changing the address, by their errno code. */
const LISTEN_ERRORS: Record<string, (address: Address) => string> = {
  EADDRINUSE: ({ host, port }) =>
    `port ${port} on ${host} is already in use; stop the process using it (is another Vantage running?) or choose another port with --port or VANTAGE_PORT`,
  EACCES: ({ host, port }) => `this user may not listen on port ${port} on ${host}; choose a port above 1023 with --port or VANTAGE_PORT`,
  EADDRNOTAVAIL: ({ host }) => `${host} is not an address of this machine; choose another with --host or VANTAGE_HOST (0.0.0.0 for all)`,
};

/** A listen() failure the operator can fix, as a fatal error with one line saying how; others as they are. */
function listenError(error: NodeJS.ErrnoException, address: Address): Error {
  const message = LISTEN_ERRORS[error.code ?? ""];
  return message ? new VantageError("fatal", "cannot_listen", message(address), { cause: error }) : error;
}

export async function startHttpServer(app: Hono, options: Address): Promise<HttpServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenError(error, options));
    server.once("error", failed);
    server.listen(options.port, options.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Stop accepting, let in-flight requests finish, drop idle keep-alive connections.
        server.closeIdleConnections();
      }),
  };
}
