// A tiny authoritative DNS server for tests, on 127.0.0.1, answering over UDP and TCP on one
// port from a fixed zone (dns-packet on both ends). It can truncate its UDP answers (so a
// client must retry over TCP), stay silent, or send a stray answer first.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { type Answer, type DecodedPacket, decode, encode } from "dns-packet";

const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const TRUNCATED = 1 << 9;
const AUTHORITATIVE = 1 << 10;

export interface ZoneEntry {
  answers: Answer[];
  rcode?: keyof typeof RCODES;
}

export interface DnsServerBehaviour {
  /** Answer UDP queries with the TC flag and no answers. */
  truncateUdp?: boolean;
  /** Never answer. */
  silent?: boolean;
  /** Before the real answer, send one with another id (a stray or spoofed datagram). */
  strayFirst?: boolean;
}

export interface TestDnsServer {
  port: number;
  /** Queries received, as `protocol type name`. */
  queries: string[];
  behave(behaviour: DnsServerBehaviour): void;
  close(): Promise<void>;
}

/** `zone` maps `name TYPE` (e.g. `example.test A`) to its answers; other names are NXDOMAIN. */
export async function startDnsServer(zone: Record<string, ZoneEntry>): Promise<TestDnsServer> {
  const queries: string[] = [];
  let behaviour: DnsServerBehaviour = {};

  const answerTo = (query: DecodedPacket, protocol: "udp" | "tcp"): Buffer | undefined => {
    const question = query.questions?.[0];
    if (!question) return undefined;
    queries.push(`${protocol} ${question.type} ${question.name}`);
    if (behaviour.silent) return undefined;
    const entry = zone[`${question.name.toLowerCase()} ${question.type}`];
    const known = entry ?? Object.keys(zone).some((key) => key.startsWith(`${question.name.toLowerCase()} `));
    const rcode = RCODES[entry?.rcode ?? (known ? "NOERROR" : "NXDOMAIN")];
    const truncated = protocol === "udp" && behaviour.truncateUdp;
    return encode({
      type: "response",
      id: query.id,
      flags: AUTHORITATIVE | rcode | (truncated ? TRUNCATED : 0),
      questions: [question],
      answers: truncated ? [] : (entry?.answers ?? []),
    });
  };

  const tcp: Server = createServer((socket: Socket) => {
    socket.on("error", () => undefined);
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < buffer.readUInt16BE(0) + 2) return;
      const answer = answerTo(decode(buffer.subarray(2, buffer.readUInt16BE(0) + 2)), "tcp");
      if (!answer) return;
      const framed = Buffer.alloc(answer.length + 2);
      framed.writeUInt16BE(answer.length, 0);
      answer.copy(framed, 2);
      socket.end(framed);
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  const port = (tcp.address() as { port: number }).port;

  const udp: UdpSocket = createSocket("udp4");
  udp.on("message", (message, from) => {
    const query = decode(message);
    const answer = answerTo(query, "udp");
    if (!answer) return;
    if (behaviour.strayFirst) {
      const stray = Buffer.from(answer);
      stray.writeUInt16BE((query.id! + 1) % 65_536, 0);
      udp.send(stray, from.port, from.address);
    }
    udp.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(port, "127.0.0.1", () => resolve());
  });

  const sockets = new Set<Socket>();
  tcp.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    port,
    queries,
    behave: (next) => {
      behaviour = next;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise((resolve) => tcp.close(resolve)), new Promise<void>((resolve) => udp.close(() => resolve()))]);
    },
  };
}
