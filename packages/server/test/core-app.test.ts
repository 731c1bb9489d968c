// Proves the core's API wiring: every module's routes are served under /api/v1, and two modules claiming one path are refused at start.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { mountTable } from "../src/core-app.ts";

const answering = (text: string) => new Hono().get("/", (c) => c.text(text));

describe("the API's mount table", () => {
  it("holds every module's routes by their paths", () => {
    const satellites = answering("satellites");
    const automations = answering("automations");
    const triggers = answering("triggers");
    expect(mountTable([{ routes: { "/satellites": satellites } }, { routes: { "/automations": automations, "/triggers": triggers } }])).toEqual({
      "/satellites": satellites,
      "/automations": automations,
      "/triggers": triggers,
    });
  });

  it("refuses two modules that mount routes at one path, naming it", () => {
    expect(() => mountTable([{ routes: { "/checks": answering("one") } }, { routes: { "/checks": answering("two") } }])).toThrow(
      expect.objectContaining({ code: "routes_mounted_twice", message: expect.stringContaining("/api/v1/checks") }),
    );
  });
});
