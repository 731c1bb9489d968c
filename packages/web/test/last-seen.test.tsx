// @vitest-environment happy-dom
// A satellite's "Last seen": its last heartbeat while connected; once disconnected (the
// heartbeat is cleared), since when it is offline — or only that it is, for an edge recorded
// before its time was.
import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { LastSeen } from "../src/features/satellites/last-seen.tsx";

afterEach(cleanup);

const AT = "2030-01-01T10:00:00.000Z";
const textOf = (satellite: Parameters<typeof LastSeen>[0]["satellite"]) => render(<LastSeen satellite={satellite} />).container;

describe("a satellite's last seen", () => {
  it("is the last heartbeat while there is one", () => {
    const shown = textOf({ lastSeenAt: AT, lastEvent: "connected", lastEventAt: "2030-01-01T09:00:00.000Z" });
    expect(shown.querySelector("time")?.getAttribute("dateTime")).toBe(AT);
    expect(shown.textContent).not.toContain("offline");
  });

  it("says since when a disconnected satellite is offline", () => {
    const shown = textOf({ lastSeenAt: null, lastEvent: "disconnected", lastEventAt: AT });
    expect(shown.textContent).toMatch(/^went offline /);
    expect(shown.querySelector("time")?.getAttribute("dateTime")).toBe(AT);
  });

  it("says only that it went offline when the edge's time is unknown (recorded by an older core)", () => {
    expect(textOf({ lastSeenAt: null, lastEvent: "disconnected", lastEventAt: null }).textContent).toBe("not since it went offline");
  });
});
