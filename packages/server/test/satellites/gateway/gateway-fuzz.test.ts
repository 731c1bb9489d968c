// The gateway under fast-check's hostile frames and hellos: an error frame or a close, never a crash, a welcome or unbounded memory.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { type Assignment, MAX_FRAME_BYTES, satelliteFrameSchema } from "@vantage/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, type FakeSatellite, openFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

// Thousands of hostile frames against the real gateway from raw sockets, before and after
// hello: every bad frame is answered with an error frame or a close, nothing crashes, the
// gateway's own error log stays empty and memory stays bounded. Seeded: a failure replays.
const SEED = 20_261_127;
const SENTINEL_CHECK = "sentinel";

let core: SatelliteCore;
const errorLogs: string[] = [];

beforeAll(async () => {
  const { url } = await createTestDatabase();
  // What the gateway logs at error level means a handler threw: a bug, which the fuzz must not find.
  const logger = pino({ level: "error" }, { write: (line: string) => void errorLogs.push(line) });
  core = await startSatelliteCore(url, "gateway-fuzz", {
    monitor: false,
    gateway: { logger, helloTimeoutMs: 2_000, closeGraceMs: 20, assignmentsFor: async () => [sentinel], badFrameLimit: { max: 1_000_000, windowMs: 60_000 } },
  });
});

afterAll(async () => {
  await core?.stop();
});

const sentinel: Assignment = { checkId: SENTINEL_CHECK, name: "sentinel", type: "http", intervalSeconds: 60, timeoutMs: 1000, config: {} };

type Frame = { data: string | Buffer; binary: boolean };

const text = (data: string): Frame => ({ data, binary: false });
const json = (value: unknown): Frame => text(JSON.stringify(value));

/** Values of every JSON type, including odd strings (lone surrogates, NUL, huge numbers). */
const anyJson = fc.jsonValue({ maxDepth: 4 });
const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.string({ maxLength: 64 }).map((s) => `${s}\u0000\ud800`),
  fc.nat(4_000).map((n) => "s".repeat(n)),
);

const frameArbitrary: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 20, arbitrary: anyJson.map(json) },
  { weight: 10, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map(text) }, // mostly not JSON
  { weight: 8, arbitrary: fc.nat(5_000).map((depth) => text(`${"[".repeat(depth)}${"]".repeat(depth)}`)) },
  { weight: 4, arbitrary: fc.nat(5_000).map((depth) => text(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`)) },
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })) },
  {
    // The right types with the wrong fields: every known frame type, any values.
    weight: 30,
    arbitrary: fc
      .record(
        {
          type: fc.constantFrom("hello", "heartbeat", "result", "bye", "welcome", "ack", "Hello", ""),
          satelliteId: fc.oneof(fc.uuid(), hostileString, anyJson),
          token: fc.oneof(hostileString, anyJson),
          version: fc.oneof(hostileString, anyJson),
          capabilities: fc.oneof(fc.array(hostileString, { maxLength: 200 }), anyJson),
          uptimeSeconds: fc.oneof(fc.double(), anyJson),
          inFlight: fc.oneof(fc.integer(), fc.double(), anyJson),
          resultId: fc.oneof(fc.uuid(), hostileString),
          checkId: fc.oneof(fc.constant(SENTINEL_CHECK), hostileString, anyJson),
          startedAt: fc.oneof(
            fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
            hostileString,
          ),
          durationMs: fc.oneof(fc.double(), anyJson),
          status: fc.oneof(fc.constantFrom("up", "down"), anyJson),
          detail: fc.oneof(fc.dictionary(hostileString, anyJson, { maxKeys: 5 }), anyJson),
          reason: fc.oneof(hostileString, anyJson),
        },
        { requiredKeys: ["type"] },
      )
      .map(json),
  },
  { weight: 1, arbitrary: fc.nat(64).map((extra) => text("x".repeat(MAX_FRAME_BYTES + 1 + extra))) }, // over 1 MiB: closes
);

/** What the gateway must do with one frame from a welcomed satellite. */
function expectedAnswer(frame: Frame): "error" | "close" | "ack" | "none" {
  if (frame.binary) return "error";
  if (Buffer.byteLength(frame.data) > MAX_FRAME_BYTES) return "close";
  let value: unknown;
  try {
    value = JSON.parse(frame.data as string);
  } catch {
    return "error";
  }
  const parsed = satelliteFrameSchema.safeParse(value);
  if (!parsed.success) return "error";
  // An answer to a run nobody waits for is ignored.
  const answers = { hello: "error", heartbeat: "none", bye: "close", result: "ack", runResult: "none" } as const;
  const answer = answers[parsed.data.type];
  // A result for any check but the sentinel is for an unassigned check: an error, or (when it
  // claims to predate the session) an ack.
  if (parsed.data.type === "result" && parsed.data.checkId !== SENTINEL_CHECK) return "error";
  return answer;
}

/** The welcomed socket runs share until one of them closes it (connecting costs two entity changes). */
let welcomed: { satellite: FakeSatellite; open: boolean } | undefined;

/** Sends frames after hello, then a sentinel result; resolves once its ack (or the close) came. */
async function afterWelcome(frames: Frame[]): Promise<void> {
  if (!welcomed?.open) {
    const { satellite } = await connectFakeSatellite(core.url, await core.createSatellite());
    const current = { satellite, open: true };
    void satellite.closed.then(() => (current.open = false));
    welcomed = current;
  }
  const { satellite } = welcomed;
  const seen = satellite.received.length;
  for (const frame of frames) satellite.sendRaw(frame.data, { binary: frame.binary });
  const last = satellite.result(SENTINEL_CHECK);
  const expected = frames.map(expectedAnswer);
  const cut = expected.indexOf("close");
  const errors = () => satellite.received.slice(seen).filter((frame) => frame.type === "error").length;
  if (cut === -1) {
    await satellite.next("ack", { where: (frame) => frame.resultIds.includes(last.resultId) });
    // Every frame before the sentinel was answered before its ack: frames are handled in order.
    const unassignedAcked = frames.filter((frame, index) => expected[index] === "error" && isOldUnassignedResult(frame)).length;
    expect(errors() + unassignedAcked).toBe(expected.filter((answer) => answer === "error").length);
  } else {
    const errorsBefore = expected.slice(0, cut).filter((answer) => answer === "error").length;
    await satellite.closed;
    expect(errors()).toBeLessThanOrEqual(errorsBefore);
  }
}

/** A valid result for an unassigned check that started before the session: acknowledged, not an error. */
function isOldUnassignedResult(frame: Frame): boolean {
  if (frame.binary) return false;
  try {
    const parsed = satelliteFrameSchema.safeParse(JSON.parse(frame.data as string));
    return parsed.success && parsed.data.type === "result" && Date.parse(parsed.data.startedAt) < Date.now() - 60_000;
  } catch {
    return false;
  }
}

/** Sends frames instead of a hello: the first bad one is rejected, and the socket closes. */
async function beforeHello(frames: Frame[]): Promise<void> {
  const satellite: FakeSatellite = await openFakeSatellite(core.url);
  for (const frame of frames) satellite.sendRaw(frame.data, { binary: frame.binary });
  const { code } = await satellite.closed;
  expect([1008, 1009]).toContain(code);
  if (code === 1008) expect(satellite.received.map((frame) => frame.type)).toEqual(["rejected"]);
}

/** A bye, then more frames: none of them is answered, the socket closes. */
async function afterBye(frames: Frame[]): Promise<void> {
  const { satellite } = await connectFakeSatellite(core.url, await core.createSatellite());
  satellite.send({ type: "bye", reason: "fuzz" });
  for (const frame of frames) if (satellite.ws.readyState === satellite.ws.OPEN) satellite.sendRaw(frame.data, { binary: frame.binary });
  expect((await satellite.closed).code).toBe(1000);
  expect(satellite.received.filter((frame) => frame.type !== "welcome")).toEqual([]);
}

describe("the gateway under hostile frames", () => {
  it("answers every bad frame with an error frame or a close, never crashes and keeps its memory bounded", async () => {
    const { satellite: bystander } = await connectFakeSatellite(core.url, await core.createSatellite());
    const heapBefore = process.memoryUsage().heapUsed;
    let framesSent = 0;
    const scenario = fc.record({
      phase: fc.constantFrom(afterWelcome, afterWelcome, afterWelcome, afterWelcome, afterWelcome, afterWelcome, beforeHello, beforeHello, afterBye),
      frames: fc.array(frameArbitrary, { minLength: 10, maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ phase, frames }) => {
        framesSent += frames.length + 1;
        await phase(frames);
      }),
      { seed: SEED, numRuns: 120 },
    );

    if (welcomed?.open) await welcomed.satellite.close();
    expect(framesSent).toBeGreaterThan(2_000);
    expect(errorLogs).toEqual([]);
    // Still serving: the bystander's result is stored and acknowledged.
    const sent = bystander.result(SENTINEL_CHECK);
    expect((await bystander.next("ack", { where: (frame) => frame.resultIds.includes(sent.resultId) })).resultIds).toContain(sent.resultId);
    expect(core.gateway.connectedCount()).toBe(1);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
    await bystander.close();
  });

  it("refuses a hello with hostile field values without ever welcoming it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ satelliteId: fc.oneof(fc.uuid(), fc.constant(randomUUID())), token: fc.string({ unit: "binary", maxLength: 300 }) }),
        async (hello) => {
          const satellite = await openFakeSatellite(core.url);
          satellite.send({ type: "hello", version: "0", capabilities: [], ...hello });
          expect(await satellite.next("rejected")).toMatchObject({ type: "rejected" });
          await satellite.closed;
        },
      ),
      { seed: SEED, numRuns: 30 },
    );
  });
});
