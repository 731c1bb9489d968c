// Where Login sends a user back after signing in: a path on this site only.
import { describe, expect, it } from "vitest";
import { safeRedirect } from "../src/features/login/login-page.tsx";
import { splitTags } from "../src/features/satellites/satellites-page.tsx";

describe("the redirect after signing in", () => {
  it("returns to the page the user was sent away from", () => {
    expect(safeRedirect("/satellites/6f0c?tab=runs")).toBe("/satellites/6f0c?tab=runs");
  });

  it("never leaves the site or loops back to Login", () => {
    for (const target of ["https://evil.example/", "//evil.example/x", "/login?redirect=/x", "", undefined]) expect(safeRedirect(target)).toBe("/");
  });
});

describe("satellite tags typed as text", () => {
  it("become trimmed tags without empty ones", () => {
    expect(splitTags(" dmz, ipv6,, edge ,")).toEqual(["dmz", "ipv6", "edge"]);
  });
});
