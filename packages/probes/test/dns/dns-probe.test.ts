// The dns probe against a tiny DNS server on 127.0.0.1 (UDP and TCP): every record type
// rendered as text, rcodes, answers assertions, truncation falling back to TCP, stray
// datagrams ignored, timeouts, and the address policy on a server the check names.
import { createOutboundClient } from "@vantage/outbound";
import { checkResultDetailSchema, type DnsProbeSpec, probeSpecSchema } from "@vantage/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { reverseName } from "../../src/dns/render-answer.ts";
import { type ProbeOptions, type ProbeResult, probeDns } from "../../src/index.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";

const options = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({
  signal: new AbortController().signal,
  outbound: createOutboundClient({ userAgent: "test" }),
  ...extra,
});

let server: TestDnsServer;

async function probe(input: Record<string, unknown>, extra?: Partial<ProbeOptions>): Promise<ProbeResult> {
  const spec = probeSpecSchema.parse({ type: "dns", server: "127.0.0.1", port: server.port, timeoutMs: 5_000, ...input }) as DnsProbeSpec;
  const result = await probeDns(spec, options(extra));
  expect(checkResultDetailSchema.safeParse(result.detail).success, JSON.stringify(result.detail)).toBe(true);
  return result;
}

const NAME = "example.test";
beforeAll(async () => {
  server = await startDnsServer({
    [`${NAME} A`]: {
      answers: [
        { type: "CNAME", name: NAME, data: "alias.example.test" },
        { type: "A", name: NAME, data: "192.0.2.10" },
        { type: "A", name: NAME, data: "192.0.2.11" },
      ],
    },
    [`${NAME} AAAA`]: { answers: [{ type: "AAAA", name: NAME, data: "2001:db8::10" }] },
    [`www.${NAME} CNAME`]: { answers: [{ type: "CNAME", name: `www.${NAME}`, data: NAME }] },
    [`${NAME} MX`]: { answers: [{ type: "MX", name: NAME, data: { preference: 10, exchange: `mail.${NAME}` } }] },
    [`${NAME} NS`]: { answers: [{ type: "NS", name: NAME, data: `ns1.${NAME}` }] },
    [`${NAME} TXT`]: { answers: [{ type: "TXT", name: NAME, data: ["v=spf1 ", "include:_spf.example.test -all"] }] },
    [`_sip._tcp.${NAME} SRV`]: { answers: [{ type: "SRV", name: `_sip._tcp.${NAME}`, data: { priority: 10, weight: 5, port: 5060, target: `sip.${NAME}` } }] },
    [`${NAME} SOA`]: {
      answers: [
        {
          type: "SOA",
          name: NAME,
          data: { mname: `ns1.${NAME}`, rname: `hostmaster.${NAME}`, serial: 2026120101, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300 },
        },
      ],
    },
    [`${NAME} CAA`]: { answers: [{ type: "CAA", name: NAME, data: { flags: 0, tag: "issue", value: "ca.example.test" } }] },
    ["10.2.0.192.in-addr.arpa PTR"]: { answers: [{ type: "PTR", name: "10.2.0.192.in-addr.arpa", data: NAME }] },
    [`broken.${NAME} A`]: { answers: [], rcode: "SERVFAIL" },
    [`big.${NAME} TXT`]: {
      answers: Array.from({ length: 80 }, (_, index) => ({ type: "TXT" as const, name: `big.${NAME}`, data: `${index}-${"t".repeat(250)}` })),
    },
  });
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.behave({});
  server.queries.length = 0;
});

describe("record types", () => {
  it.each([
    ["A", NAME, ["192.0.2.10", "192.0.2.11"]],
    ["AAAA", NAME, ["2001:db8::10"]],
    ["CNAME", `www.${NAME}`, [NAME]],
    ["MX", NAME, [`10 mail.${NAME}`]],
    ["NS", NAME, [`ns1.${NAME}`]],
    ["TXT", NAME, ["v=spf1 include:_spf.example.test -all"]],
    ["SRV", `_sip._tcp.${NAME}`, [`10 5 5060 sip.${NAME}`]],
    ["SOA", NAME, [`ns1.${NAME} hostmaster.${NAME} 2026120101 7200 3600 1209600 300`]],
    ["CAA", NAME, ['0 issue "ca.example.test"']],
    ["PTR", "192.0.2.10", [NAME]],
  ])("renders %s answers as text", async (recordType, queryName, answers) => {
    const result = await probe({ queryName, recordType });
    expect(result).toMatchObject({ status: "up", detail: { dns: { rcode: "NOERROR", answers } } });
    expect(result.detail.timings!.firstByteMs).toBeGreaterThanOrEqual(0);
  });

  it("names the reverse zone of IPv4 and IPv6 addresses", () => {
    expect(reverseName("192.0.2.10")).toBe("10.2.0.192.in-addr.arpa");
    expect(reverseName("2001:db8::1")).toBe("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  });
});

describe("rcodes and answers", () => {
  it("is down on an unexpected rcode, and up when the check expects it", async () => {
    expect(await probe({ queryName: `missing.${NAME}` })).toMatchObject({
      status: "down",
      detail: { reason: "expected rcode NOERROR, got NXDOMAIN", dns: { rcode: "NXDOMAIN", answers: [] } },
    });
    expect((await probe({ queryName: `missing.${NAME}`, expectRcode: ["NXDOMAIN"] })).status).toBe("up");
    expect((await probe({ queryName: `broken.${NAME}`, expectRcode: ["NOERROR", "NXDOMAIN"] })).detail.reason).toBe(
      "expected rcode NOERROR or NXDOMAIN, got SERVFAIL",
    );
  });

  it("asserts on rcode, answers (some answer) and response time", async () => {
    const result = await probe({
      queryName: NAME,
      assertions: [
        { subject: "rcode", op: "eq", value: "NOERROR" },
        { subject: "answers", op: "eq", value: "192.0.2.11" },
        { subject: "answers", op: "contains", value: "192.0.2." },
        { subject: "answers", op: "matches", value: "^192\\.0\\.2\\.1[01]$" },
        { subject: "answers", op: "ne", value: "203.0.113.1" },
        { subject: "responseTimeMs", op: "lt", value: 5_000 },
        { subject: "answers", op: "eq", value: "203.0.113.1", onFail: "degrade" },
      ],
    });
    expect(result.status).toBe("degraded");
    expect(result.detail.assertions!.map((verdict) => verdict.pass)).toEqual([true, true, true, true, true, true, false]);
    expect(result.detail.assertions![6]!.actual).toEqual(["192.0.2.10", "192.0.2.11"]);
  });
});

describe("transport", () => {
  it("asks over TCP when told to", async () => {
    const result = await probe({ queryName: NAME, protocol: "tcp" });
    expect(result.status).toBe("up");
    expect(server.queries).toEqual([`tcp A ${NAME}`]);
    expect(result.detail.timings!.connectMs).toBeGreaterThanOrEqual(0);
  });

  it("repeats a truncated UDP answer's query over TCP", async () => {
    server.behave({ truncateUdp: true });
    const result = await probe({ queryName: NAME });
    expect(result).toMatchObject({ status: "up", detail: { dns: { answers: ["192.0.2.10", "192.0.2.11"] } } });
    expect(server.queries).toEqual([`udp A ${NAME}`, `tcp A ${NAME}`]);
  });

  it("ignores a datagram that does not answer its query", async () => {
    server.behave({ strayFirst: true });
    expect((await probe({ queryName: NAME })).detail.dns!.answers).toEqual(["192.0.2.10", "192.0.2.11"]);
  });

  it("is down when the server does not answer within the timeout, promptly, over UDP and TCP", async () => {
    server.behave({ silent: true });
    for (const protocol of ["udp", "tcp"]) {
      const started = performance.now();
      const result = await probe({ queryName: NAME, protocol, timeoutMs: 200 });
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(result).toMatchObject({ status: "down", detail: { error: { code: "timeout" } } });
    }
  });

  it("keeps many long answers within the detail's limits", async () => {
    const result = await probe({ queryName: `big.${NAME}`, recordType: "TXT", protocol: "tcp" });
    expect(result.detail.dns!.answers).toHaveLength(50);
    expect(result.detail.dns!.answers[0]!.length).toBeLessThanOrEqual(300);
  });

  it("refuses a server the address policy rejects, without asking it", async () => {
    const result = await probe({ queryName: NAME }, { addressPolicy: () => "no loopback resolvers" });
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "address_refused" } } });
    expect(server.queries).toEqual([]);
  });
});
