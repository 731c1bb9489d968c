// Proves the core's stop stack: stops run last first, each once, and one that fails keeps none of the rest from running.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createStopStack } from "../src/core-module.ts";

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe("the stop stack", () => {
  it("runs the stops last first, and a failing one keeps none of the rest from running", async () => {
    const { logger, lines } = capturedLogger();
    const stops = createStopStack(logger);
    const ran: string[] = [];
    stops.add("database", async () => void ran.push("database"));
    stops.add("http", async () => {
      ran.push("http");
      throw new Error("socket already closed");
    });
    stops.add("gateway", async () => void ran.push("gateway"));

    await stops.stopAll();
    expect(ran).toEqual(["gateway", "http", "database"]);
    expect(lines.filter((line) => line.msg === "stopping").map((line) => line.component)).toEqual(["gateway", "http", "database"]);
    expect(lines.find((line) => line.msg === "error while stopping")).toMatchObject({ component: "http", err: { message: "socket already closed" } });
  });

  it("runs each stop once, however often it is asked to stop", async () => {
    const stops = createStopStack(capturedLogger().logger);
    let runs = 0;
    stops.add("hub", async () => void runs++);
    await stops.stopAll();
    await stops.stopAll();
    expect(runs).toBe(1);
  });
});
