// The agent's bounded result buffer: oldest first until acknowledged, the oldest dropped (counted, warned about at most once a minute) when full.
import { randomUUID } from "node:crypto";
import type { ResultFrame } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import type { Clock } from "../src/clock.ts";
import { createResultBuffer } from "../src/result-buffer.ts";
import { LEVEL, captureLogs } from "./support/capture-logs.ts";

function result(checkId = "check-1"): ResultFrame {
  return { type: "result", resultId: randomUUID(), checkId, startedAt: new Date(0).toISOString(), durationMs: 5, status: "up", detail: {} };
}

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, setTimeout: () => undefined as never, clearTimeout: () => {}, advance: (ms) => void (now += ms) };
}

function setup(capacity: number) {
  const logs = captureLogs();
  const clock = manualClock();
  const buffer = createResultBuffer({ capacity, logger: logs.logger, clock });
  return { buffer, logs, clock };
}

const ids = (results: ResultFrame[]) => results.map((r) => r.resultId);

describe("the result buffer", () => {
  it("keeps results oldest first until they are acknowledged", () => {
    const { buffer } = setup(10);
    const [a, b, c] = [result(), result(), result()];
    for (const r of [a, b, c]) buffer.add(r);
    expect(ids(buffer.pending())).toEqual(ids([a, b, c]));

    expect(buffer.ack([b.resultId, "unknown-id"])).toBe(1);
    expect(ids(buffer.pending())).toEqual(ids([a, c]));
    expect(buffer.ack([b.resultId])).toBe(0);

    // What a reconnect re-sends: everything still unacknowledged, in the order it was made.
    const d = result();
    buffer.add(d);
    expect(ids(buffer.pending())).toEqual(ids([a, c, d]));
    buffer.ack([a.resultId, c.resultId, d.resultId]);
    expect(buffer.size).toBe(0);
  });

  it("marks as resends the pending results that went out before, and only those", () => {
    const { buffer } = setup(10);
    const [sent, unsent, acked] = [result(), result(), result()];
    for (const r of [sent, unsent, acked]) buffer.add(r);
    buffer.sent(sent.resultId);
    buffer.sent(acked.resultId);
    buffer.ack([acked.resultId]);
    buffer.sent(acked.resultId); // acknowledged meanwhile: nothing to mark

    expect(buffer.pending()).toEqual([{ ...sent, resend: true }, unsent]);
    expect(sent.resend).toBeUndefined();
    // Added again after its ack (a probe cannot do that, but the buffer must not remember it).
    buffer.add(acked);
    expect(buffer.pending().at(-1)).toEqual(acked);
  });

  it("drops the oldest when full, counts it and warns with the count", () => {
    const { buffer, logs } = setup(3);
    const made = Array.from({ length: 5 }, () => result());
    for (const r of made) buffer.add(r);
    expect(buffer.size).toBe(3);
    expect(buffer.dropped).toBe(2);
    expect(ids(buffer.pending())).toEqual(ids(made.slice(2)));
    const warning = logs.lines.find((line) => line.level === LEVEL.warn);
    expect(warning).toMatchObject({ dropped: 1, capacity: 3 });
    expect(warning?.msg).toContain("dropped the oldest");
  });

  it("does not drop anything while there is room", () => {
    const { buffer, logs } = setup(3);
    for (let i = 0; i < 3; i++) buffer.add(result());
    expect(buffer.dropped).toBe(0);
    expect(logs.lines).toEqual([]);
  });

  it("warns at most once a minute while it keeps dropping, with the drops in between", () => {
    const { buffer, logs, clock } = setup(1);
    for (let i = 0; i < 101; i++) buffer.add(result());
    expect(logs.lines.filter((line) => line.level === LEVEL.warn)).toHaveLength(1);
    clock.advance(60_000);
    buffer.add(result());
    const warnings = logs.lines.filter((line) => line.level === LEVEL.warn);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatchObject({ dropped: 101, droppedSinceLastWarning: 100 });
  });

  it("tells subscribers about each new result until they unsubscribe", () => {
    const { buffer } = setup(3);
    const seen: string[] = [];
    const unsubscribe = buffer.subscribe((r) => seen.push(r.resultId));
    const first = result();
    buffer.add(first);
    unsubscribe();
    buffer.add(result());
    expect(seen).toEqual([first.resultId]);
  });
});
