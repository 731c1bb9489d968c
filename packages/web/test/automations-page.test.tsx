// @vitest-environment happy-dom
// The automations list against a stubbed API: each automation's newest run, as a status and
// how long ago, and "never" for one that has not run.
import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { AutomationsPage } from "../src/features/automations/automations-page.tsx";
import { me, renderScreen, signInForEachTest } from "./support/render-screen.tsx";

const automation = (id: string, name: string, lastRun: unknown) => ({
  id,
  name,
  enabled: true,
  mode: "single",
  maxRuns: 10,
  concurrency: "automation",
  triggers: [{ event: "check.unhealthy" }],
  conditions: [],
  actions: [{ log: { message: "x" } }],
  version: 1,
  createdAt: new Date(Date.now() - 86_400_000).toISOString(),
  updatedAt: new Date(Date.now() - 86_400_000).toISOString(),
  lastRun,
});

signInForEachTest();

describe("the automations list", () => {
  it("shows each automation's newest run, and never for one without", async () => {
    const ranAt = new Date(Date.now() - 5 * 60_000).toISOString();
    renderScreen(<AutomationsPage />, (call) => {
      if (call.url.startsWith("/api/v1/auth/me")) return me("admin");
      if (call.url.startsWith("/api/v1/automations"))
        return {
          status: 200,
          body: {
            automations: [
              automation("a1", "page on down", { id: "r1", status: "failed", createdAt: ranAt, finishedAt: ranAt }),
              automation("a2", "quiet one", null),
            ],
          },
        };
      return undefined;
    });
    const paged = await screen.findByRole("row", { name: /page on down/ });
    expect(within(paged).getByText("failed")).toBeTruthy();
    expect(paged.querySelector('[data-label="Last run"]')!.textContent).toMatch(/failed\s*5 min ago/);
    const quiet = screen.getByRole("row", { name: /quiet one/ });
    expect(quiet.querySelector('[data-label="Last run"]')!.textContent).toBe("never");
  });
});
