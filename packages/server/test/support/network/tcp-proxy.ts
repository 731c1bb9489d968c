// A TCP proxy in front of PostgreSQL (or a core, for an agent): a client connected through it
// can be cut off at once and completely (every connection, and every reconnection attempt), as
// if its process had died, while the test process itself goes on. restore() lets it talk again.
// silenceReplies() makes the open connections one-way: what the client sends still arrives,
// nothing comes back (a link that died quietly in one direction).
import { createConnection, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  /** `url` with the proxy's host and port. */
  url: string;
  /** Destroys every proxied connection and refuses new ones until restore(). */
  cut(): void;
  /** From now on the open connections drop what the target sends; new connections are not affected. */
  silenceReplies(): void;
  /**
   * From now on a client's close is not passed on: the target side stays open and silent, as a
   * connection to a host that died without a FIN (power cut, kernel panic, a partition) does.
   */
  holdTargetsOpen(): void;
  restore(): void;
  /** Stops accepting and resolves once every proxied connection was closed by its client. */
  close(): Promise<void>;
}

export async function startTcpProxy(url: string): Promise<TcpProxy> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  /** Each open connection's target side and the client side it is piped to. */
  const pairs = new Map<Socket, Socket>();
  let cut = false;
  let hold = false;
  const server = createServer((inbound) => {
    if (cut) return void inbound.destroy();
    const outbound = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    pairs.set(outbound, inbound);
    inbound.on("close", () => hold || outbound.destroy());
    outbound.on("close", () => {
      pairs.delete(outbound);
      inbound.destroy();
    });
    // The client's end is passed on by hand, so holdTargetsOpen() can withhold it.
    inbound.pipe(outbound, { end: false }).pipe(inbound);
    inbound.on("end", () => hold || outbound.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  // An embedded server's URL names its Unix socket too (`host`): the client must take the proxy.
  proxied.searchParams.delete("host");
  proxied.port = String((server.address() as AddressInfo).port);
  const destroyAll = () => sockets.forEach((socket) => socket.destroy());
  return {
    url: proxied.toString(),
    cut: () => {
      cut = true;
      destroyAll();
    },
    silenceReplies: () => {
      for (const [outbound, inbound] of pairs) {
        outbound.unpipe(inbound);
        // Read and dropped, so the target never stalls on a full buffer.
        outbound.on("data", () => undefined);
      }
    },
    holdTargetsOpen: () => {
      hold = true;
    },
    restore: () => {
      cut = false;
    },
    close: async () => {
      if (hold) for (const outbound of pairs.keys()) outbound.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
