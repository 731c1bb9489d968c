// Proves which hosts the core location refuses: link-local and cloud-metadata addresses in every spelling a resolver reads, and nothing else.
import { describe, expect, it } from "vitest";
import { isRefusedCoreTarget } from "../../../src/checks/definitions/private-targets.ts";

describe("isRefusedCoreTarget", () => {
  it.each([
    "169.254.169.254",
    "169.254.0.1",
    "169.254.255.255",
    "2852039166",
    "0xa9fea9fe",
    "0251.0376.0251.0376",
    "169.254.43518",
    "::ffff:169.254.169.254",
    "[::ffff:a9fe:a9fe]",
    "fe80::1",
    "fe80::1%eth0",
    "[FEBF::1]",
    "fd00:ec2::254",
    "FD00:EC2:0:0:0:0:0:254",
    "100.100.100.200",
    "metadata.google.internal",
    "Metadata.Google.Internal.",
  ])("refuses %s", (host) => {
    expect(isRefusedCoreTarget(host)).toBe(true);
  });

  it.each([
    "169.253.255.255",
    "169.255.0.0",
    "10.0.0.1",
    "127.0.0.1",
    "::1",
    "fec0::1",
    "fd00:ec2::253",
    "100.100.100.201",
    "example.com",
    "metadata.google.internal.example.com",
    "google.internal",
  ])("leaves %s alone", (host) => {
    expect(isRefusedCoreTarget(host)).toBe(false);
  });
});
