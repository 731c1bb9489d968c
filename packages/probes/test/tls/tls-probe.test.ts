// The tls probe against TLS servers on 127.0.0.1 with certificates made at test time: the
// certificate's facts, failDays and warnDays, chain and host name verification each on and
// off, assertions, and a handshake that never completes.
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { createOutboundClient } from "@vantage/outbound";
import { checkResultDetailSchema, probeSpecSchema, type TlsProbeSpec } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa, daysFromNow, selfSignedCertificate } from "../../../server/test/support/network/certificates.ts";
import { type ProbeOptions, type ProbeResult, probeTls } from "../../src/index.ts";

const options = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({
  signal: new AbortController().signal,
  outbound: createOutboundClient({ userAgent: "test" }),
  ...extra,
});

async function probe(input: Record<string, unknown>, extra?: Partial<ProbeOptions>): Promise<ProbeResult> {
  const result = await probeTls(probeSpecSchema.parse({ type: "tls", host: "127.0.0.1", timeoutMs: 5_000, ...input }) as TlsProbeSpec, options(extra));
  expect(checkResultDetailSchema.safeParse(result.detail).success, JSON.stringify(result.detail)).toBe(true);
  return result;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const ports: Record<"fresh" | "tenDays" | "threeDays" | "expired" | "selfSigned" | "silent", number> = {
  fresh: 0,
  tenDays: 0,
  threeDays: 0,
  expired: 0,
  selfSigned: 0,
  silent: 0,
};

beforeAll(async () => {
  // A CA of our own is not trusted by the system: chain verification is off except where a test says.
  const ca = await createTestCa();
  const serve = async (tls: { key: string; cert: string }) => listen(createTlsServer(tls, (socket) => socket.end()));
  ports.fresh = await serve(await ca.issue({ names: ["localhost", "probe.test"], notAfter: daysFromNow(200.5) }));
  ports.tenDays = await serve(await ca.issue({ notAfter: daysFromNow(10.5) }));
  ports.threeDays = await serve(await ca.issue({ notAfter: daysFromNow(3.5) }));
  ports.expired = await serve(await ca.issue({ notBefore: daysFromNow(-30), notAfter: daysFromNow(-2.5) }));
  ports.selfSigned = await serve(await selfSignedCertificate());
  ports.silent = await listen(createServer(() => undefined));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const unverified = { verifyChain: false };

describe("the tls probe", () => {
  it("reports the certificate's expiry, days left, issuer, subject and SANs", async () => {
    const result = await probe({ port: ports.fresh, ...unverified });
    expect(result.status).toBe("up");
    expect(result.detail.cert).toMatchObject({
      daysRemaining: 200,
      issuer: "CN=Vantage Test CA",
      subject: "CN=localhost",
      sans: ["localhost", "probe.test", "127.0.0.1"],
    });
    expect(Date.parse(result.detail.cert!.expiresAt)).toBeGreaterThan(Date.now());
    expect(result.detail.timings).toMatchObject({ connectMs: expect.any(Number), tlsMs: expect.any(Number) });
  });

  it("is degraded under warnDays and down under failDays, saying how many days are left", async () => {
    expect(await probe({ port: ports.tenDays, ...unverified })).toMatchObject({
      status: "degraded",
      detail: { reason: "the certificate expires in 10 days (fewer than warnDays, 14)" },
    });
    expect(await probe({ port: ports.threeDays, ...unverified })).toMatchObject({
      status: "down",
      detail: { reason: "the certificate expires in 3 days (fewer than failDays, 7)" },
    });
    expect((await probe({ port: ports.tenDays, ...unverified, warnDays: 5, failDays: 2 })).status).toBe("up");
  });

  it("is down on an expired certificate even without verification", async () => {
    expect(await probe({ port: ports.expired, ...unverified })).toMatchObject({
      status: "down",
      detail: { reason: "the certificate expired 2 days ago", cert: { daysRemaining: -3 } },
    });
  });

  it("verifies the chain when asked, still reporting the certificate", async () => {
    const result = await probe({ port: ports.selfSigned });
    expect(result).toMatchObject({ status: "down", detail: { error: { code: "tls" }, cert: { subject: "CN=localhost" } } });
    expect(result.detail.reason).toContain("self-signed");
  });

  it("verifies the host name apart from the chain", async () => {
    const wrongName = await probe({ port: ports.fresh, ...unverified, serverName: "elsewhere.test" });
    expect(wrongName).toMatchObject({ status: "down", detail: { error: { code: "tls" } } });
    expect(wrongName.detail.reason).toContain("elsewhere.test");
    expect((await probe({ port: ports.fresh, ...unverified, serverName: "elsewhere.test", verifyHostname: false })).status).toBe("up");
    expect((await probe({ port: ports.fresh, ...unverified, serverName: "probe.test" })).status).toBe("up");
  });

  it("evaluates assertions on days left, issuer and SANs", async () => {
    const result = await probe({
      port: ports.fresh,
      ...unverified,
      assertions: [
        { subject: "certDaysRemaining", op: "gt", value: 30 },
        { subject: "issuer", op: "contains", value: "Vantage" },
        { subject: "sans", op: "eq", value: "probe.test" },
        { subject: "sans", op: "contains", value: "nowhere", onFail: "degrade" },
      ],
    });
    expect(result.status).toBe("degraded");
    expect(result.detail.assertions!.map((verdict) => verdict.pass)).toEqual([true, true, true, false]);
  });

  it("is down when the handshake does not finish within the timeout, promptly", async () => {
    const started = performance.now();
    const result = await probe({ port: ports.silent, timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(result).toMatchObject({ status: "down", detail: { error: { code: "timeout" } } });
  });
});
