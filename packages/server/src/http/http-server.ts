// Binds the Hono app to a Node HTTP server (the satellite gateway later shares its
// `upgrade` event) and closes it promptly: idle keep-alive sockets do not hold shutdown.
import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";

export interface HttpServer {
  server: Server;
  /** `http://host:port` actually bound (port 0 resolves to the real port). */
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(app: Hono, options: { host: string; port: number }): Promise<HttpServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
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
