// The one backoff rule: each delay's ceiling doubles from the base up to the cap, jitter keeps
// every delay within its share of the ceiling, and a counted backoff starts over after a reset.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BackoffPolicy, backoffDelayMs, createBackoff } from "../src/index.ts";

const ALMOST_ONE = 1 - Number.EPSILON;
const highest = () => ALMOST_ONE;
const lowest = () => 0;
const seconds = (delays: number[]) => delays.map((delay) => delay / 1_000);
const first = (count: number, policy: BackoffPolicy, random = highest) =>
  Array.from({ length: count }, (_, index) => backoffDelayMs(policy, index + 1, random));

// The agent's reconnects: full jitter from up to 1 s to up to 30 s.
const reconnect: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000, jitter: "full" };

describe("backoff delays", () => {
  it("doubles the ceiling from the base on each attempt and never passes the cap", () => {
    expect(seconds(first(8, { baseMs: 1_000, maxMs: 60_000, jitter: "none" }))).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    expect(seconds(first(8, reconnect))).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
  });

  it("draws a full-jitter delay from anywhere between 0 and the ceiling", () => {
    expect(first(8, reconnect, lowest)).toEqual(Array(8).fill(0));
    const fourth = Array.from({ length: 2_000 }, () => backoffDelayMs(reconnect, 4)); // ceiling 8 s
    expect(Math.min(...fourth)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...fourth)).toBeLessThanOrEqual(8_000);
    // Spread over the whole range rather than bunched at the ceiling.
    expect(fourth.filter((delay) => delay < 4_000).length).toBeGreaterThan(600);
    expect(fourth.filter((delay) => delay >= 4_000).length).toBeGreaterThan(600);
  });

  it("draws an equal-jitter delay from the upper half of the ceiling", () => {
    const retry: BackoffPolicy = { baseMs: 500, maxMs: 30_000, jitter: "equal" };
    expect(seconds(first(8, retry, lowest))).toEqual([0.25, 0.5, 1, 2, 4, 8, 15, 15]);
    expect(seconds(first(8, retry, highest))).toEqual([0.5, 1, 2, 4, 8, 16, 30, 30]);
  });

  it("stays at the cap however long the outage, even from a base of 0", () => {
    expect(backoffDelayMs(reconnect, 5_000, highest)).toBe(30_000);
    expect(backoffDelayMs({ baseMs: 1, maxMs: 60_000, jitter: "none" }, Number.MAX_SAFE_INTEGER)).toBe(60_000);
    expect(backoffDelayMs({ baseMs: 0, maxMs: 1_000, jitter: "none" }, 10_000)).toBe(0);
  });
});

describe("a counted backoff", () => {
  it("draws the delays of attempts 1, 2, 3 … and counts them", () => {
    const backoff = createBackoff(reconnect, highest);
    expect(seconds([backoff.next(), backoff.next(), backoff.next()])).toEqual([1, 2, 4]);
    expect(backoff.attempt).toBe(3);
  });

  it("starts from the first delay again after a reset", () => {
    const backoff = createBackoff(reconnect, highest);
    for (let attempt = 0; attempt < 6; attempt++) backoff.next();
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(seconds([backoff.next(), backoff.next()])).toEqual([1, 2]);
  });
});

const policies = fc.record({
  baseMs: fc.integer({ min: 0, max: 100_000 }),
  maxMs: fc.integer({ min: 0, max: 10_000_000 }),
  jitter: fc.constantFrom("none", "equal", "full"),
}) as fc.Arbitrary<BackoffPolicy>;
const attempts = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
const randoms = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("every backoff delay", () => {
  it("is a whole number of milliseconds within its jitter's share of the ceiling, and never over the cap", () => {
    fc.assert(
      fc.property(policies, attempts, randoms, (policy, attempt, random) => {
        const delay = backoffDelayMs(policy, attempt, () => random);
        const ceiling = backoffDelayMs({ ...policy, jitter: "none" }, attempt);
        const floor = { none: ceiling, equal: Math.floor(ceiling / 2), full: 0 }[policy.jitter];
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(floor);
        expect(delay).toBeLessThanOrEqual(Math.min(ceiling, Math.round(policy.maxMs)));
      }),
    );
  });

  it("has a ceiling that never shrinks from one attempt to the next", () => {
    fc.assert(
      fc.property(policies, attempts, (policy, attempt) => {
        const none = { ...policy, jitter: "none" } as const;
        expect(backoffDelayMs(none, attempt + 1)).toBeGreaterThanOrEqual(backoffDelayMs(none, attempt));
      }),
    );
  });

  it("comes out of a counted backoff exactly as backoffDelayMs gives it for the same attempt", () => {
    fc.assert(
      fc.property(policies, fc.array(fc.boolean(), { maxLength: 40 }), randoms, (policy, resets, random) => {
        const backoff = createBackoff(policy, () => random);
        let attempt = 0;
        for (const reset of resets) {
          if (reset) {
            backoff.reset();
            attempt = 0;
          }
          expect(backoff.next()).toBe(backoffDelayMs(policy, ++attempt, () => random));
          expect(backoff.attempt).toBe(attempt);
        }
      }),
    );
  });
});
