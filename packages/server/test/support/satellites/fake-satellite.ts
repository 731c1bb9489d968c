// An in-process fake satellite on a real WebSocket: connects to a core's gateway, sends any
// frame (or raw bytes), and awaits the core's frames by type. For gateway tests, agent
// tests and benchmarks.
import { type CoreFrame, coreFrameSchema, type HelloFrame, parseFrame, type ResultFrame, type WelcomeFrame } from "@vantage/protocol";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

export const SATELLITE_PATH = "/ws/satellite";

type FrameOf<Type extends CoreFrame["type"]> = Extract<CoreFrame, { type: Type }>;

export interface FakeSatellite {
  ws: WebSocket;
  /** Every frame the core sent, in order (anything unparseable is kept as an `error` with code `unparseable`). */
  received: CoreFrame[];
  /** Resolves with the close code and reason once the socket closed, whoever closed it. */
  closed: Promise<{ code: number; reason: string }>;
  send(frame: object): void;
  /** Sends text or bytes as they are (malformed JSON, binary, oversized frames). */
  sendRaw(data: string | Buffer, options?: { binary?: boolean }): void;
  hello(overrides?: Partial<HelloFrame>): void;
  heartbeat(overrides?: { uptimeSeconds?: number; inFlight?: number }): void;
  /** Sends a result frame for `checkId` (a fresh resultId unless given) and returns it. */
  result(checkId: string, overrides?: Partial<ResultFrame>): ResultFrame;
  /**
   * The next frame of `type` not yet taken by an earlier call (possibly one that already
   * arrived); rejects if the socket closes first or nothing comes within timeoutMs.
   */
  next<Type extends CoreFrame["type"]>(type: Type, options?: { timeoutMs?: number; where?: (frame: FrameOf<Type>) => boolean }): Promise<FrameOf<Type>>;
  /** Like next, for the first untaken frame matching `predicate`. */
  nextWhere(predicate: (frame: CoreFrame) => boolean, timeoutMs?: number): Promise<CoreFrame>;
  /** Closes cleanly and waits for the close to complete. */
  close(code?: number): Promise<void>;
  /** Drops the TCP connection without a close frame. */
  terminate(): Promise<void>;
}

export interface SatelliteCredentials {
  satelliteId: string;
  token: string;
}

/** `http://host:port` (a core's url) → the gateway's ws:// URL. */
export function gatewayUrl(coreUrl: string, path = SATELLITE_PATH): string {
  const url = new URL(coreUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = path;
  return url.toString();
}

/** Opens a socket to the gateway and sends nothing yet. */
export async function openFakeSatellite(
  coreUrl: string,
  options: { path?: string; credentials?: SatelliteCredentials; headers?: Record<string, string> } = {},
): Promise<FakeSatellite> {
  const ws = new WebSocket(gatewayUrl(coreUrl, options.path), { perMessageDeflate: false, headers: options.headers });
  const received: CoreFrame[] = [];
  const taken = new Set<CoreFrame>();
  const waiters = new Set<() => void>();
  let closedInfo: { code: number; reason: string } | undefined;

  ws.on("message", (data: Buffer) => {
    const parsed = parseFrame(coreFrameSchema, data.toString("utf8"));
    received.push(parsed.ok ? parsed.frame : { type: "error", code: "unparseable", message: parsed.message });
    for (const wake of waiters) wake();
  });
  // The core may cut the socket (oversized frame, shutdown); the close event says how.
  ws.on("error", () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once("close", (code, reason) => {
      closedInfo = { code, reason: reason.toString() };
      resolve(closedInfo);
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_request, response) => {
      ws.terminate(); // with a listener here, ws leaves the refused request to us
      reject(new Error(`gateway answered the upgrade with HTTP ${response.statusCode}`));
    });
  });

  const take = (predicate: (frame: CoreFrame) => boolean, what: string, timeoutMs = 10_000): Promise<CoreFrame> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const frame = received.find((candidate) => !taken.has(candidate) && predicate(candidate));
        if (frame) {
          taken.add(frame);
          return finish(() => resolve(frame));
        }
        if (closedInfo) finish(() => reject(new Error(`socket closed (${closedInfo!.code} ${closedInfo!.reason}) before ${what}; got ${describe(received)}`)));
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${timeoutMs} ms; got ${describe(received)}`))), timeoutMs);
      waiters.add(check);
      check();
    });

  const credentials = options.credentials;
  const send = (frame: object) => ws.send(JSON.stringify(frame));

  return {
    ws,
    received,
    closed,
    send,
    sendRaw: (data, sendOptions) => ws.send(data, { binary: sendOptions?.binary ?? false }),
    hello: (overrides = {}) =>
      send({ type: "hello", satelliteId: credentials?.satelliteId, token: credentials?.token, version: "0.0.0-test", capabilities: ["http"], ...overrides }),
    heartbeat: (overrides = {}) => send({ type: "heartbeat", uptimeSeconds: 1, inFlight: 0, ...overrides }),
    result(checkId, overrides = {}) {
      const frame: ResultFrame = {
        type: "result",
        resultId: randomUUID(),
        checkId,
        startedAt: new Date().toISOString(),
        durationMs: 12,
        status: "up",
        detail: {},
        ...overrides,
      };
      send(frame);
      return frame;
    },
    next(type, nextOptions = {}) {
      const where = nextOptions.where as ((frame: CoreFrame) => boolean) | undefined;
      return take((frame) => frame.type === type && (where?.(frame) ?? true), `a ${type} frame`, nextOptions.timeoutMs) as Promise<FrameOf<typeof type>>;
    },
    nextWhere: (predicate, timeoutMs) => take(predicate, "a matching frame", timeoutMs),
    async close(code = 1000) {
      if (ws.readyState !== WebSocket.CLOSED) ws.close(code);
      await closed;
    },
    async terminate() {
      ws.terminate();
      await closed;
    },
  };
}

/** Opens a socket, says hello and waits for the welcome; throws with the rejection otherwise. */
export async function connectFakeSatellite(
  coreUrl: string,
  credentials: SatelliteCredentials,
  hello: Partial<HelloFrame> = {},
  headers?: Record<string, string>,
): Promise<{ satellite: FakeSatellite; welcome: WelcomeFrame }> {
  const satellite = await openFakeSatellite(coreUrl, { credentials, headers });
  satellite.hello(hello);
  const answer = await satellite
    .nextWhere((frame) => frame.type === "welcome" || frame.type === "rejected")
    .catch(async (error: unknown) => {
      await satellite.close();
      throw error;
    });
  if (answer.type !== "welcome") {
    await satellite.closed;
    throw new Error(`the core refused the hello: ${JSON.stringify(answer)}`);
  }
  return { satellite, welcome: answer };
}

function describe(frames: readonly CoreFrame[]): string {
  return frames.length === 0 ? "nothing" : frames.map((frame) => frame.type).join(", ");
}
