// The SSE clients of bench/sse-fanout, in a process of their own so they cost the measured core
// nothing but the bytes it sends: raw TCP sockets (no HTTP client, no stream machinery, one
// shared read buffer), each read scanned only for `\nid: <seq>\nevent: <name>` and timed once.
// Talks to its parent over the IPC channel: `ready` once every client has its `ready` event,
// then `record` / `count` (arrivals so far) / `report` (every change arrival as event id and
// wall time) / `close`.
import { Buffer } from "node:buffer";
import net from "node:net";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { setImmediate } from "node:timers";

const { host, port, path, authorization, count } = JSON.parse(process.argv[2]);

const ID = Buffer.from("\nid: ");
const EVENT = Buffer.from("\nevent: ");
const NEWLINE = 0x0a;
const C = "c".charCodeAt(0);
const R = "r".charCodeAt(0);

let seqs = new Float64Array(1 << 20);
let times = new Float64Array(1 << 20);
let received = 0;
let readyClients = 0;
let recording = false;
let cpuFrom = process.cpuUsage();
let wallFrom = performance.now();
const sockets = [];

function record(seq, at) {
  if (received === seqs.length) {
    const grow = (array) => {
      const bigger = new Float64Array(array.length * 2);
      bigger.set(array);
      return bigger;
    };
    seqs = grow(seqs);
    times = grow(times);
  }
  seqs[received] = seq;
  times[received] = at;
  received++;
}

/**
 * Scans `bytes` for frame headers; returns the bytes to carry into the next read (a header cut
 * by the read's end), or null. JSON data never holds a raw newline, so `\nid: ` only starts
 * frames (the HTTP head and chunk-size lines end in `\r\n`, so the first frame matches too).
 */
function scan(client, bytes, at) {
  let from = 0;
  for (;;) {
    const match = bytes.indexOf(ID, from);
    if (match < 0) break;
    const digits = match + ID.length;
    const end = bytes.indexOf(NEWLINE, digits);
    if (end < 0 || end + EVENT.length >= bytes.length) return Buffer.from(bytes.subarray(match));
    let seq = 0;
    for (let i = digits; i < end; i++) seq = seq * 10 + bytes[i] - 48;
    const name = bytes[end + EVENT.length];
    if (name === C) {
      if (recording) record(seq, at);
    } else if (name === R && !client.ready) {
      client.ready = true;
      if (++readyClients === count) process.send({ type: "ready" });
    }
    from = end;
  }
  // A `\nid: ` cut by the end of the read: keep the tail that could start one.
  const lastNewline = bytes.lastIndexOf(NEWLINE);
  return lastNewline >= 0 && bytes.length - lastNewline < ID.length ? Buffer.from(bytes.subarray(lastNewline)) : null;
}

function connect() {
  const client = { ready: false, head: true, carry: null };
  const socket = net.connect({
    host,
    port,
    onread: {
      buffer: Buffer.allocUnsafe(64 * 1024),
      callback(size, buffer) {
        const at = performance.timeOrigin + performance.now();
        let bytes = buffer.subarray(0, size);
        if (client.head) {
          client.head = false;
          if (!bytes.subarray(0, 12).toString("latin1").startsWith("HTTP/1.1 200")) {
            process.send({ type: "error", message: `answer: ${bytes.subarray(0, 80).toString("latin1")}` });
          }
        }
        // Joined only when the read goes on where the carried header left off (rare: reads end
        // after a whole write, i.e. `\n\n\r\n`, whose `\n` is carried but followed by a chunk size).
        const carry = client.carry;
        if (carry && (carry.length >= ID.length || bytes[0] === ID[carry.length])) bytes = Buffer.concat([carry, bytes]);
        client.carry = null;
        client.carry = scan(client, bytes, at);
      },
    },
  });
  socket.setNoDelay(true);
  socket.on("error", (error) => process.send({ type: "error", message: error.message }));
  socket.write(`GET ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\naccept: text/event-stream\r\nauthorization: ${authorization}\r\n\r\n`);
  sockets.push(socket);
}

// Connect in slices so a thousand handshakes do not queue behind each other all at once.
for (let i = 0; i < count; i++) {
  connect();
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
}

process.on("message", (message) => {
  if (message === "record") {
    recording = true;
    cpuFrom = process.cpuUsage();
    wallFrom = performance.now();
  } else if (message === "count") {
    process.send({ type: "count", received });
  } else if (message === "report") {
    recording = false;
    const cpu = process.cpuUsage(cpuFrom);
    const busy = (cpu.user + cpu.system) / 1000 / (performance.now() - wallFrom);
    process.send({ type: "report", seqs: seqs.slice(0, received), times: times.slice(0, received), busy });
    received = 0;
  } else if (message === "close") {
    for (const socket of sockets) socket.destroy();
    process.disconnect();
  }
});
