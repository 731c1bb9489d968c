// Opening a connection to a target: each phase timed, TLS verified as asked (chain and host
// name apart), the certificate kept even when it fails, the address policy obeyed, and an
// abort ending everything at once.
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa, daysFromNow, selfSignedCertificate, type TestCa } from "../../server/test/support/network/certificates.ts";
import { ConnectionError, openConnection } from "../src/index.ts";

let ca: TestCa;
let otherCa: TestCa;
const servers: Server[] = [];
const accepted = new Set<Socket>();
/** Every connection the servers accepted, live or closed. */
let acceptedCount = 0;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: Socket) => {
    accepted.add(socket);
    acceptedCount += 1;
    // Clients here hang up abruptly (that is the point of several tests).
    socket.on("error", () => undefined);
    socket.on("close", () => accepted.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

let tcpPort: number;
let tlsPort: number;
let expiredPort: number;
let selfSignedPort: number;
/** Accepts TCP and never answers the TLS handshake. */
let silentPort: number;

beforeAll(async () => {
  ca = await createTestCa();
  otherCa = await createTestCa("Someone Else's CA");
  tcpPort = await listen(createTcpServer((socket) => socket.end("hello\n")));
  const leaf = await ca.issue({ names: ["localhost", "probe.test"] });
  tlsPort = await listen(createTlsServer({ ...leaf }, (socket: TLSSocket) => socket.end("secure\n")));
  const expired = await ca.issue({ notBefore: daysFromNow(-30), notAfter: daysFromNow(-2) });
  expiredPort = await listen(createTlsServer({ ...expired }, (socket: TLSSocket) => socket.end()));
  selfSignedPort = await listen(createTlsServer({ ...(await selfSignedCertificate()) }, (socket: TLSSocket) => socket.end()));
  silentPort = await listen(createTcpServer(() => undefined));
});
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const never = new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConnectionError)) throw new Error(`expected a ConnectionError, got ${String(error)}`);
  return error;
}

describe("plain TCP", () => {
  it("connects and times the connect phase; an IP address needs no lookup", async () => {
    const opened = await openConnection({ host: "127.0.0.1", port: tcpPort }, never);
    opened.socket.destroy();
    expect(opened.address).toEqual({ address: "127.0.0.1", family: 4 });
    expect(opened.timings.connectMs).toBeGreaterThanOrEqual(0);
    expect(opened.timings).not.toHaveProperty("dnsMs");
    expect(opened.peerCertificate).toBeUndefined();
  });

  it("times the lookup of a name", async () => {
    const opened = await openConnection({ host: "localhost", port: tcpPort, family: 4 }, never);
    opened.socket.destroy();
    expect(opened.timings.dnsMs).toBeGreaterThanOrEqual(0);
  });

  it("reports a refused connection in the connect phase with Node's code", async () => {
    const closed = createTcpServer();
    const port = await new Promise<number>((resolve) => closed.listen(0, "127.0.0.1", () => resolve((closed.address() as AddressInfo).port)));
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(openConnection({ host: "127.0.0.1", port }, never));
    expect(error).toMatchObject({ phase: "connect", code: "ECONNREFUSED" });
  });

  it("refuses an IP address of another family than the one asked for", async () => {
    expect(await failure(openConnection({ host: "127.0.0.1", port: tcpPort, family: 6 }, never))).toMatchObject({ phase: "dns", code: "EFAMILY" });
  });
});

describe("the address policy", () => {
  it("refuses an address it rejects, with its message, without connecting", async () => {
    const connectionsBefore = acceptedCount;
    const policy = (address: string) => (address === "127.0.0.1" ? "loopback is not allowed here" : undefined);
    const error = await failure(openConnection({ host: "localhost", port: tcpPort, family: 4, addressPolicy: policy }, never));
    expect(error).toMatchObject({ phase: "policy", code: "ADDRESS_REFUSED" });
    expect(error.message).toBe("refused to connect to 127.0.0.1 (the address of localhost): loopback is not allowed here");
    expect(acceptedCount).toBe(connectionsBefore);
  });

  it("connects when the policy allows the address", async () => {
    const opened = await openConnection({ host: "127.0.0.1", port: tcpPort, addressPolicy: () => undefined }, never);
    opened.socket.destroy();
    expect(opened.address.address).toBe("127.0.0.1");
  });
});

describe("TLS", () => {
  const verifyBoth = { verifyChain: true, verifyHostname: true };

  it("trusts an extra CA, times the handshake and describes the certificate", async () => {
    const opened = await openConnection({ host: "localhost", port: tlsPort, family: 4, tls: { ...verifyBoth, ca: ca.cert } }, never);
    opened.socket.destroy();
    expect(opened.timings.tlsMs).toBeGreaterThanOrEqual(0);
    expect(opened.peerCertificate).toMatchObject({
      subject: "CN=localhost",
      issuer: "CN=Vantage Test CA",
      subjectAltNames: ["DNS:localhost", "DNS:probe.test", "IP Address:127.0.0.1"],
    });
    expect(Date.parse(opened.peerCertificate!.validTo)).toBeGreaterThan(Date.now());
  });

  it("refuses a chain no trusted CA signed, keeping the certificate", async () => {
    const error = await failure(openConnection({ host: "127.0.0.1", port: tlsPort, tls: { ...verifyBoth, ca: otherCa.cert } }, never));
    expect(error).toMatchObject({ phase: "tls", code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
    expect(error.message).toContain("not signed by a trusted CA");
    expect(error.details.peerCertificate?.issuer).toBe("CN=Vantage Test CA");
  });

  it("refuses an expired certificate and a self-signed one, each saying so", async () => {
    const expired = await failure(openConnection({ host: "127.0.0.1", port: expiredPort, tls: { ...verifyBoth, ca: ca.cert } }, never));
    expect(expired).toMatchObject({ code: "CERT_HAS_EXPIRED", message: "the certificate has expired (CERT_HAS_EXPIRED)" });
    expect(Date.parse(expired.details.peerCertificate!.validTo)).toBeLessThan(Date.now());
    const selfSigned = await failure(openConnection({ host: "127.0.0.1", port: selfSignedPort, tls: verifyBoth }, never));
    expect(selfSigned.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("checks the host name apart from the chain", async () => {
    const wrongName = { host: "127.0.0.1", port: tlsPort, tls: { ca: ca.cert, serverName: "elsewhere.test", verifyChain: true, verifyHostname: true } };
    expect(await failure(openConnection(wrongName, never))).toMatchObject({ phase: "tls", code: "ERR_TLS_CERT_ALTNAME_INVALID" });
    const opened = await openConnection({ ...wrongName, tls: { ...wrongName.tls, verifyHostname: false } }, never);
    opened.socket.destroy();
    const named = await openConnection({ ...wrongName, tls: { ...wrongName.tls, serverName: "probe.test" } }, never);
    named.socket.destroy();
  });

  it("connects to anything without verification and still reads the certificate", async () => {
    const opened = await openConnection({ host: "127.0.0.1", port: expiredPort, tls: { verifyChain: false, verifyHostname: false } }, never);
    opened.socket.destroy();
    expect(Date.parse(opened.peerCertificate!.validTo)).toBeLessThan(Date.now());
  });

  it("refuses an extra CA that does not parse before connecting", async () => {
    const connectionsBefore = acceptedCount;
    const garbled = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----";
    const error = await failure(openConnection({ host: "127.0.0.1", port: tlsPort, tls: { ...verifyBoth, ca: garbled } }, never));
    expect(error).toMatchObject({ phase: "setup", code: "INVALID_CA" });
    expect(error.message).toContain("certificate 1 of the extra CA does not parse");
    expect(acceptedCount).toBe(connectionsBefore);
  });

  it("stops a handshake that never completes as soon as the signal aborts, closing the socket", async () => {
    const controller = new AbortController();
    const attempt = openConnection({ host: "127.0.0.1", port: silentPort, tls: verifyBoth }, controller.signal);
    await expect.poll(() => accepted.size).toBeGreaterThan(0);
    const started = performance.now();
    controller.abort(new Error("stop now"));
    await expect(attempt).rejects.toThrow("stop now");
    expect(performance.now() - started).toBeLessThan(100);
    await expect.poll(() => accepted.size).toBe(0);
  });
});
