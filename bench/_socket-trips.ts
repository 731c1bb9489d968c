// Counts this process's socket writes and the data chunks it reads, by wrapping net.Socket:
// a per-unit measure of round trips and wake-ups (each write a syscall that wakes a peer, each
// chunk read a wake of this process) that load distorts far less than CPU time does. Counted
// by the remote port (PostgreSQL's, a receiver's); sockets the bench itself talks over (its own
// pool, its children's stdio) are left out.
import net from "node:net";

export interface SocketTrips {
  writes: number;
  reads: number;
}

export interface SocketTripCounter {
  /** Leaves this socket's traffic out of the counts. */
  ignore(socket: object): void;
  /** Counts so far by remote port (0: not a TCP connection), and their sum. */
  read(): { byPort: Map<number, SocketTrips>; total: SocketTrips };
}

type Wrapped = { _writeGeneric(...args: unknown[]): unknown; push(chunk: unknown, ...rest: unknown[]): boolean };

/** Starts counting, process-wide, for the rest of the process's life (a bench program's). */
export function countSocketTrips(): SocketTripCounter {
  const proto = net.Socket.prototype as unknown as Wrapped;
  const ignored = new WeakSet<object>();
  const byPort = new Map<number, SocketTrips>();
  const countsOf = (socket: net.Socket): SocketTrips | undefined => {
    if (ignored.has(socket)) return undefined;
    const port = socket.remotePort ?? 0;
    let counts = byPort.get(port);
    if (!counts) byPort.set(port, (counts = { writes: 0, reads: 0 }));
    return counts;
  };
  // Both write paths of a socket (write and writev) end in _writeGeneric: one call, one syscall.
  const writeGeneric = proto._writeGeneric;
  proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
    const counts = countsOf(this);
    if (counts) counts.writes++;
    return writeGeneric.apply(this, args);
  };
  // A socket pushes each chunk it read (null at its end).
  const push = proto.push;
  proto.push = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    const counts = chunk === null ? undefined : countsOf(this);
    if (counts) counts.reads++;
    return push.call(this, chunk, ...rest);
  };
  return {
    ignore: (socket) => void ignored.add(socket),
    read: () => {
      const total = { writes: 0, reads: 0 };
      for (const counts of byPort.values()) {
        total.writes += counts.writes;
        total.reads += counts.reads;
      }
      return { byPort: new Map([...byPort].map(([port, counts]) => [port, { ...counts }])), total };
    },
  };
}
