// The core's address policy refuses link-local and cloud metadata addresses in every spelling,
// lets everything else through, and an http probe under it refuses such a target before any
// packet leaves (the refused addresses below are never connected to).
import { createOutboundClient } from "@vantage/outbound";
import { type HttpProbeSpec, probeSpecSchema } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { expandIpv6 } from "../src/ip-address.ts";
import { coreAddressPolicy, probeHttp } from "../src/index.ts";

const policy = coreAddressPolicy("set VANTAGE_ALLOW_PRIVATE_TARGETS=true");

describe("the core's address policy", () => {
  it.each([
    ["169.254.169.254", 4],
    ["169.254.170.2", 4],
    ["100.100.100.200", 4],
    ["fe80::1", 6],
    ["febf:ffff::1", 6],
    ["fd00:ec2::254", 6],
    ["::ffff:169.254.169.254", 6],
    ["::ffff:a9fe:a9fe", 6],
  ] as const)("refuses %s", (address, family) => {
    expect(policy(address, family)).toMatch(
      new RegExp(
        `^${address.replace(/\./g, "\\.")} is a (link-local|cloud metadata) address.*; set VANTAGE_ALLOW_PRIVATE_TARGETS=true, or run the check on a satellite$`,
      ),
    );
  });

  it.each([
    ["127.0.0.1", 4],
    ["10.0.0.1", 4],
    ["169.253.255.255", 4],
    ["8.8.8.8", 4],
    ["::1", 6],
    ["fec0::1", 6],
    ["fd00:ec2::253", 6],
    ["2001:db8::1", 6],
  ] as const)("allows %s", (address, family) => {
    expect(policy(address, family)).toBeUndefined();
  });

  it("reads IPv6 in every spelling", () => {
    expect(expandIpv6("::")).toBe("0".repeat(32));
    expect(expandIpv6("2001:DB8::a:1")).toBe("20010db80000000000000000000a0001");
    expect(expandIpv6("::ffff:1.2.3.4")).toBe("00000000000000000000ffff01020304");
  });

  it("makes an http probe refuse a metadata URL as an error that says how to allow it", async () => {
    const spec = probeSpecSchema.parse({ type: "http", url: "http://169.254.169.254/latest/meta-data/", timeoutMs: 1_000 }) as HttpProbeSpec;
    const result = await probeHttp(spec, {
      signal: new AbortController().signal,
      outbound: createOutboundClient({ userAgent: "test" }),
      addressPolicy: policy,
    });
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "address_refused" } } });
    expect(result.detail.reason).toContain("set VANTAGE_ALLOW_PRIVATE_TARGETS=true");
    expect(result.detail.timings).not.toHaveProperty("connectMs");
  });
});
