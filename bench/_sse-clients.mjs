// The SSE clients of bench/sse-fanout, in a worker thread so their parsing does not share the
// server's event loop: `count` connections to `url`; for each `change` frame it records the
// event id and the arrival time (performance.timeOrigin + now: comparable across threads).
import http from "node:http";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";

const { url, headers, count } = workerData;
const sockets = [];
let seqs = new Float64Array(1 << 16);
let times = new Float64Array(1 << 16);
let received = 0;
let ready = 0;
let recording = false;

function record(seq) {
  if (!recording) return;
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
  times[received] = performance.timeOrigin + performance.now();
  received++;
}

function connect() {
  const request = http.get(url, { headers, agent: false }, (response) => {
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    response.setEncoding("utf8");
    let buffer = "";
    response.on("data", (chunk) => {
      buffer += chunk;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        // Frames start with `id: <seq>` then `event: <name>` (heartbeats are comments).
        if (frame.startsWith("id: ")) {
          const newline = frame.indexOf("\n");
          const name = frame.slice(newline + 8, frame.indexOf("\n", newline + 1));
          if (name === "change") record(Number(frame.slice(4, newline)));
          else if (name === "ready" && ++ready === count) parentPort.postMessage({ type: "ready" });
        }
      }
    });
  });
  request.on("error", (error) => parentPort.postMessage({ type: "error", message: error.message }));
  sockets.push(request);
}

for (let i = 0; i < count; i++) connect();

parentPort.on("message", (message) => {
  if (message === "record") recording = true;
  if (message === "report") {
    recording = false;
    const out = { type: "report", seqs: seqs.slice(0, received), times: times.slice(0, received) };
    parentPort.postMessage(out, [out.seqs.buffer, out.times.buffer]);
    received = 0;
  }
  if (message === "close") {
    for (const request of sockets) request.destroy();
    parentPort.close();
  }
});
