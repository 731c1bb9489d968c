// A stand-in for the core's satellite endpoint, on a real socket: records every frame an
// agent sends and lets a test answer as the core would (or would not).
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type CoreFrame, type SatelliteFrame, parseFrame, satelliteFrameSchema } from "@vantage/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { createSignal, waitFor } from "../../../server/test/support/instance.ts";

export interface FakeSession {
  socket: WebSocket;
  /** Frames the agent sent on this connection, in order. */
  frames: SatelliteFrame[];
  send(frame: CoreFrame | string): void;
  /** Resolves with the first frame matching, now or later. */
  waitForFrame<T extends SatelliteFrame["type"]>(
    type: T,
    predicate?: (frame: Extract<SatelliteFrame, { type: T }>) => boolean,
  ): Promise<Extract<SatelliteFrame, { type: T }>>;
  closed: Promise<unknown>;
}

export interface FakeCore {
  url: string;
  sessions: FakeSession[];
  /** Resolves with the index-th connection (0-based), now or when it arrives. */
  session(index: number): Promise<FakeSession>;
  stop(): Promise<void>;
}

export interface FakeCoreOptions {
  /** `false` plays a core that stopped answering pings. */
  autoPong?: boolean;
  /** Serves wss:// with this key and certificate instead of ws://. */
  tls?: { key: string; cert: string };
}

export async function startFakeCore(options: FakeCoreOptions = {}): Promise<FakeCore> {
  const autoPong = options.autoPong ?? true;
  const https = options.tls && createServer(options.tls);
  const server = https ? new WebSocketServer({ server: https, autoPong }) : new WebSocketServer({ host: "127.0.0.1", port: 0, autoPong });
  if (https) https.listen(0, "127.0.0.1");
  await once(https ?? server, "listening");
  const address = (https ?? server).address() as AddressInfo;
  const sessions: FakeSession[] = [];
  const changed = createSignal();

  server.on("connection", (socket) => {
    const frames: SatelliteFrame[] = [];
    socket.on("message", (data) => {
      const parsed = parseFrame(satelliteFrameSchema, String(data));
      if (!parsed.ok) throw new Error(`the agent sent an invalid frame: ${parsed.message}`);
      frames.push(parsed.frame);
      changed.emit();
    });
    socket.on("close", () => changed.emit());
    const find = (type: string, predicate: (frame: never) => boolean) => frames.find((frame) => frame.type === type && predicate(frame as never));
    sessions.push({
      socket,
      frames,
      send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
      waitForFrame: async (type, predicate = () => true) => {
        await waitFor(() => find(type, predicate) !== undefined, changed.subscribe, 10_000, `a ${type} frame`);
        return find(type, predicate) as never;
      },
      closed: once(socket, "close"),
    });
    changed.emit();
  });

  return {
    url: `${https ? "wss" : "ws"}://127.0.0.1:${address.port}/ws/satellite`,
    sessions,
    session: async (index) => {
      await waitFor(() => sessions.length > index, changed.subscribe, 10_000, `connection #${index + 1}`);
      return sessions[index]!;
    },
    stop: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
      if (https) await new Promise((resolve) => https.close(resolve));
    },
  };
}
