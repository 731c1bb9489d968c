import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, createBackoff } from "../src/backoff.ts";

const ALMOST_ONE = 1 - Number.EPSILON;

describe("reconnect backoff with full jitter", () => {
  it("draws each delay from [0, min(30 s, 1 s · 2^attempt)]", () => {
    const highest = createBackoff({ ...DEFAULT_BACKOFF, random: () => ALMOST_ONE });
    const ceilings = Array.from({ length: 8 }, () => highest.next());
    expect(ceilings).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);

    const lowest = createBackoff({ ...DEFAULT_BACKOFF, random: () => 0 });
    expect(Array.from({ length: 8 }, () => lowest.next())).toEqual(Array(8).fill(0));
  });

  it("spreads delays over the whole range rather than around the ceiling", () => {
    const delays = Array.from({ length: 2_000 }, () => {
      const backoff = createBackoff({ ...DEFAULT_BACKOFF, random: Math.random });
      for (let attempt = 0; attempt < 3; attempt++) backoff.next();
      return backoff.next(); // the fourth delay: ceiling 8 s
    });
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8_000);
    expect(delays.filter((delay) => delay < 4_000).length).toBeGreaterThan(600);
    expect(delays.filter((delay) => delay >= 4_000).length).toBeGreaterThan(600);
  });

  it("starts from the shortest ceiling again after a reset", () => {
    const backoff = createBackoff({ ...DEFAULT_BACKOFF, random: () => ALMOST_ONE });
    for (let attempt = 0; attempt < 6; attempt++) backoff.next();
    expect(backoff.attempt).toBe(6);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(1_000);
    expect(backoff.next()).toBe(2_000);
  });

  it("never overflows however long the outage", () => {
    const backoff = createBackoff({ ...DEFAULT_BACKOFF, random: () => ALMOST_ONE });
    for (let attempt = 0; attempt < 5_000; attempt++) backoff.next();
    expect(backoff.next()).toBe(30_000);
  });
});
