// A TCP forwarder standing in for the load balancer in front of the cores: the agent keeps
// one URL while the core behind it stops and another takes its place.
import { once } from "node:events";
import net from "node:net";

export interface TcpProxy {
  url: string;
  /** New connections go to this port from now on; open ones stay where they are. */
  retarget(port: number): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket, peer: () => net.Socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      sockets.delete(socket);
      peer().destroy();
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    track(client, () => upstream);
    track(upstream, () => client);
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    retarget: (port) => void (target = port),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
