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
  /** Counts this socket's traffic under `label` as well (e.g. the router's connection). */
  label(socket: object, label: string): void;
  /** Counts so far by remote port (0: not a TCP connection), their sum, and by label. */
  read(): { byPort: Map<number, SocketTrips>; total: SocketTrips; byLabel: Map<string, SocketTrips> };
}

type Wrapped = { _writeGeneric(...args: unknown[]): unknown; push(chunk: unknown, ...rest: unknown[]): boolean };

/** Starts counting, process-wide, for the rest of the process's life (a bench program's). */
export function countSocketTrips(): SocketTripCounter {
  const proto = net.Socket.prototype as unknown as Wrapped;
  const ignored = new WeakSet<object>();
  const byPort = new Map<number, SocketTrips>();
  const labels = new WeakMap<object, string>();
  const byLabel = new Map<string, SocketTrips>();
  /** The counts a socket's traffic adds to: its port's, and its label's if it has one. */
  const countsOf = (socket: net.Socket): SocketTrips[] => {
    if (ignored.has(socket)) return [];
    const port = socket.remotePort ?? 0;
    let counts = byPort.get(port);
    if (!counts) byPort.set(port, (counts = { writes: 0, reads: 0 }));
    const label = labels.get(socket);
    if (label === undefined) return [counts];
    let labelled = byLabel.get(label);
    if (!labelled) byLabel.set(label, (labelled = { writes: 0, reads: 0 }));
    return [counts, labelled];
  };
  // Both write paths of a socket (write and writev) end in _writeGeneric: one call, one syscall.
  const writeGeneric = proto._writeGeneric;
  proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
    for (const counts of countsOf(this)) counts.writes++;
    return writeGeneric.apply(this, args);
  };
  // A socket pushes each chunk it read (null at its end).
  const push = proto.push;
  proto.push = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (chunk !== null) for (const counts of countsOf(this)) counts.reads++;
    return push.call(this, chunk, ...rest);
  };
  return {
    ignore: (socket) => void ignored.add(socket),
    label: (socket, label) => void labels.set(socket, label),
    read: () => {
      const total = { writes: 0, reads: 0 };
      for (const counts of byPort.values()) {
        total.writes += counts.writes;
        total.reads += counts.reads;
      }
      return {
        byPort: new Map([...byPort].map(([port, counts]) => [port, { ...counts }])),
        total,
        byLabel: new Map([...byLabel].map(([label, counts]) => [label, { ...counts }])),
      };
    },
  };
}
