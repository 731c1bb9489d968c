// One DNS query and its answer, over UDP or TCP (RFC 1035 §4.2: two length bytes before each
// message on TCP). A UDP answer counts only from the server's own address and port, with our
// query's id and the response flag set: anything else on the socket is ignored (a spoofed or
// stray datagram), so it can only make the query time out, never answer it.
import { createSocket } from "node:dgram";
import type { Socket } from "node:net";
import { type DecodedPacket, decode } from "dns-packet";
import { openConnection, type ResolvedAddress } from "@vantage/outbound";

export interface DnsAnswer {
  packet: DecodedPacket;
  /** Milliseconds from the query sent to its answer. */
  firstByteMs: number;
  /** TCP only. */
  connectMs?: number;
}

export class MalformedAnswer extends Error {
  override readonly name = "MalformedAnswer";
}

const elapsed = (start: number) => Math.round((performance.now() - start) * 10) / 10;

function decodeAnswer(message: Buffer): DecodedPacket {
  try {
    return decode(message);
  } catch (error) {
    throw new MalformedAnswer(`the server's answer is not a valid DNS message (${(error as Error).message})`, { cause: error });
  }
}

export function queryOverUdp(server: ResolvedAddress, port: number, query: Buffer, id: number, signal: AbortSignal): Promise<DnsAnswer> {
  return new Promise<DnsAnswer>((resolve, reject) => {
    const socket = createSocket(server.family === 6 ? "udp6" : "udp4");
    let sentAt = 0;
    const done = (settle: () => void) => {
      signal.removeEventListener("abort", onAbort);
      socket.close();
      settle();
    };
    const onAbort = () => done(() => reject(signal.reason));
    socket.on("message", (message, from) => {
      if (from.address !== server.address || from.port !== port || message.length < 12 || message.readUInt16BE(0) !== id) return;
      try {
        const packet = decodeAnswer(message);
        if (!packet.flag_qr) return;
        done(() => resolve({ packet, firstByteMs: elapsed(sentAt) }));
      } catch (error) {
        done(() => reject(error));
      }
    });
    socket.on("error", (error) => done(() => reject(error)));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    sentAt = performance.now();
    socket.send(query, port, server.address);
  });
}

export async function queryOverTcp(server: ResolvedAddress, port: number, query: Buffer, id: number, signal: AbortSignal): Promise<DnsAnswer> {
  const opened = await openConnection({ host: server.address, port }, signal);
  const { socket } = opened;
  try {
    const framed = Buffer.alloc(query.length + 2);
    framed.writeUInt16BE(query.length, 0);
    query.copy(framed, 2);
    const sentAt = performance.now();
    socket.write(framed);
    const message = await readFramedMessage(socket, signal);
    const packet = decodeAnswer(message);
    if (packet.id !== id || !packet.flag_qr) throw new MalformedAnswer("the server answered with a message that is not the answer to our query");
    return { packet, firstByteMs: elapsed(sentAt), connectMs: opened.timings.connectMs };
  } finally {
    socket.destroy();
  }
}

/** The first length-prefixed message on the stream (at most 64 KiB, as its two length bytes allow). */
function readFramedMessage(socket: Socket, signal: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (settle: () => void) => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      signal.removeEventListener("abort", onAbort);
      settle();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 2) return;
      const buffer = Buffer.concat(chunks);
      const length = buffer.readUInt16BE(0);
      if (buffer.length >= length + 2) finish(() => resolve(buffer.subarray(2, length + 2)));
    };
    const onEnd = () => finish(() => reject(new MalformedAnswer("the server closed the connection before answering")));
    const onError = (error: Error) => finish(() => reject(error));
    const onAbort = () => finish(() => reject(signal.reason));
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onError);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
