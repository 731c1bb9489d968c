// The client address a limiter counts: the TCP peer, or behind trusted proxies the rightmost untrusted X-Forwarded-For or Forwarded hop.
import { describe, expect, it } from "vitest";
import { createClientAddressOf, createIsHttpsOf } from "../../src/auth/index.ts";

describe("the client address", () => {
  it("is the TCP peer when no proxy is trusted, whatever the headers claim", () => {
    const addressOf = createClientAddressOf();
    expect(addressOf("10.0.0.5", { "x-forwarded-for": "203.0.113.9" })).toBe("10.0.0.5");
    expect(addressOf("::ffff:10.0.0.5", {})).toBe("10.0.0.5");
    expect(addressOf(undefined, { "x-forwarded-for": "203.0.113.9" })).toBe("unknown");
  });

  it("is the TCP peer when the peer is not a trusted proxy", () => {
    const addressOf = createClientAddressOf(["10.0.0.0/8"]);
    expect(addressOf("198.51.100.3", { "x-forwarded-for": "203.0.113.9", forwarded: "for=203.0.113.9" })).toBe("198.51.100.3");
  });

  it("is the rightmost untrusted hop of X-Forwarded-For from a trusted proxy, ignoring what the client wrote to its left", () => {
    const addressOf = createClientAddressOf(["10.0.0.0/8", "fd00::/8"]);
    expect(addressOf("10.0.0.2", { "x-forwarded-for": "203.0.113.9" })).toBe("203.0.113.9");
    expect(addressOf("10.0.0.2", { "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.0.0.7" })).toBe("203.0.113.9");
    expect(addressOf("::ffff:10.0.0.2", { "x-forwarded-for": ["1.2.3.4", "2001:db8::5"] })).toBe("2001:db8::5");
    expect(addressOf("fd00::1", { "x-forwarded-for": "203.0.113.9" })).toBe("203.0.113.9");
  });

  it("stops at a hop it cannot read, and is the last trusted one when every hop is trusted", () => {
    const addressOf = createClientAddressOf(["10.0.0.0/8"]);
    expect(addressOf("10.0.0.2", { "x-forwarded-for": "203.0.113.9, garbage" })).toBe("10.0.0.2");
    expect(addressOf("10.0.0.2", { "x-forwarded-for": "10.1.1.1, 10.0.0.3" })).toBe("10.1.1.1");
    expect(addressOf("10.0.0.2", {})).toBe("10.0.0.2");
  });

  it("reads RFC 7239 Forwarded (quoted, bracketed IPv6, ports) in preference to X-Forwarded-For", () => {
    const addressOf = createClientAddressOf(["10.0.0.0/8"]);
    expect(addressOf("10.0.0.2", { forwarded: 'for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https', "x-forwarded-for": "198.51.100.1" })).toBe(
      "2001:db8:cafe::17",
    );
    expect(addressOf("10.0.0.2", { forwarded: "proto=https;For=192.0.2.60:8080;by=10.0.0.2" })).toBe("192.0.2.60");
    expect(addressOf("10.0.0.2", { forwarded: "for=unknown" })).toBe("10.0.0.2");
  });
});

describe("whether a request came over https (the session cookie's Secure)", () => {
  it("is https itself, or what a trusted proxy's last hop says", () => {
    const isHttps = createIsHttpsOf(["10.0.0.0/8"]);
    expect(isHttps(undefined, "https://vantage.example/api/v1/auth/login", {})).toBe(true);
    expect(isHttps("10.0.0.2", "http://vantage.example/", { "x-forwarded-proto": "https" })).toBe(true);
    expect(isHttps("10.0.0.2", "http://vantage.example/", { forwarded: "for=192.0.2.1;proto=http, for=192.0.2.60;proto=https" })).toBe(true);
    expect(isHttps("10.0.0.2", "http://vantage.example/", { "x-forwarded-proto": "http" })).toBe(false);
    expect(isHttps("10.0.0.2", "http://vantage.example/", {})).toBe(false);
  });

  it("believes no header from a peer that is not a trusted proxy", () => {
    expect(createIsHttpsOf(["10.0.0.0/8"])("198.51.100.3", "http://vantage.example/", { "x-forwarded-proto": "https" })).toBe(false);
    expect(createIsHttpsOf()("10.0.0.2", "http://vantage.example/", { forwarded: "proto=https" })).toBe(false);
  });
});
