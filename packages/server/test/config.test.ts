// The core's configuration: documented defaults, env and flags (flags win), and every invalid setting reported at once without echoing a secret.
import { HEARTBEAT_INTERVAL_MS, OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { loadConfig, maskDatabaseUrl } from "../src/config.ts";

describe("loadConfig", () => {
  it("uses the documented defaults", () => {
    const config = loadConfig({}, {}, { cwd: "/srv/vantage" });
    expect(config).toEqual({
      host: "127.0.0.1",
      port: 8080,
      databaseUrl: undefined,
      dataDir: "/srv/vantage/.vantage",
      logLevel: "info",
      logFormat: "json",
      adminToken: undefined,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      trustedProxies: [],
      allowPrivateTargets: false,
    });
  });

  it("reads the environment, and flags win over it", () => {
    const env = { VANTAGE_PORT: "9000", VANTAGE_HOST: "0.0.0.0", DATABASE_URL: "postgres://u:p@db:5432/v" };
    const config = loadConfig(env, { port: "9100" });
    expect(config.port).toBe(9100);
    expect(config.host).toBe("0.0.0.0");
    expect(config.databaseUrl).toBe("postgres://u:p@db:5432/v");
  });

  it("rejects a bad port, naming the variable and the value", () => {
    expect(() => loadConfig({ VANTAGE_PORT: "80a" })).toThrow(/VANTAGE_PORT \(or --port\) must be a number; got "80a"/);
    expect(() => loadConfig({ VANTAGE_PORT: "70000" })).toThrow(/VANTAGE_PORT .* between 0 and 65535/);
  });

  it("rejects a URL that is not a PostgreSQL URL without echoing its password", () => {
    let message = "";
    try {
      loadConfig({ DATABASE_URL: "mysql://root:hunter2@db/v" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/DATABASE_URL \(or --database-url\) must be a postgres:\/\//);
    expect(message).not.toContain("hunter2");
    expect(() => loadConfig({ DATABASE_URL: "not a url" })).toThrow(/DATABASE_URL/);
  });

  it("reads the admin token and the heartbeat interval from the environment only", () => {
    const config = loadConfig({ VANTAGE_ADMIN_TOKEN: "a-long-enough-admin-token", VANTAGE_HEARTBEAT_INTERVAL_MS: "1000" });
    expect(config.adminToken).toBe("a-long-enough-admin-token");
    expect(config.heartbeatIntervalMs).toBe(1000);
  });

  it("rejects a short or spaced admin token without echoing it", () => {
    for (const token of ["short-token", "a token with spaces in it"]) {
      let message = "";
      try {
        loadConfig({ VANTAGE_ADMIN_TOKEN: token });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/VANTAGE_ADMIN_TOKEN must .*; got <redacted>/);
      expect(message).not.toContain(token);
    }
  });

  it("rejects a heartbeat interval that is not a whole number of milliseconds up to the default offline threshold", () => {
    expect(() => loadConfig({ VANTAGE_HEARTBEAT_INTERVAL_MS: "fast" })).toThrow(/VANTAGE_HEARTBEAT_INTERVAL_MS must be a number; got "fast"/);
    expect(() => loadConfig({ VANTAGE_HEARTBEAT_INTERVAL_MS: "1500.5" })).toThrow(/VANTAGE_HEARTBEAT_INTERVAL_MS must be a whole number/);
    expect(() => loadConfig({ VANTAGE_HEARTBEAT_INTERVAL_MS: "50" })).toThrow(/at least 100 ms/);
    expect(() => loadConfig({ VANTAGE_HEARTBEAT_INTERVAL_MS: String(OFFLINE_THRESHOLD_MS + 1) })).toThrow(/at most 45000 ms/);
  });

  it("reads the run retention in days from the environment, unset leaving the pruner's default", () => {
    expect(loadConfig({}).runRetentionDays).toBeUndefined();
    expect(loadConfig({ VANTAGE_RUN_RETENTION_DAYS: "7" }).runRetentionDays).toBe(7);
    expect(() => loadConfig({ VANTAGE_RUN_RETENTION_DAYS: "0" })).toThrow(/VANTAGE_RUN_RETENTION_DAYS must be at least 1 day; got "0"/);
    expect(() => loadConfig({ VANTAGE_RUN_RETENTION_DAYS: "1.5" })).toThrow(/VANTAGE_RUN_RETENTION_DAYS must be a whole number of days/);
  });

  it("reads each check-result level's retention in whole days, unset leaving the defaults of checks/results", () => {
    const config = loadConfig({
      VANTAGE_RETENTION_RAW_DAYS: "7",
      VANTAGE_RETENTION_1M_DAYS: "10",
      VANTAGE_RETENTION_1H_DAYS: "100",
      VANTAGE_RETENTION_1D_DAYS: "1000",
    });
    expect([config.resultRetentionRawDays, config.resultRetention1mDays, config.resultRetention1hDays, config.resultRetention1dDays]).toEqual([
      7, 10, 100, 1000,
    ]);
    expect(loadConfig({}).resultRetentionRawDays).toBeUndefined();
    expect(() => loadConfig({ VANTAGE_RETENTION_RAW_DAYS: "0" })).toThrow(/VANTAGE_RETENTION_RAW_DAYS must be at least 1 day/);
    expect(() => loadConfig({ VANTAGE_RETENTION_1D_DAYS: "1.5" })).toThrow(/VANTAGE_RETENTION_1D_DAYS must be a whole number of days/);
  });

  it("reads the trusted proxies as a list of addresses and CIDRs, the flag winning", () => {
    expect(loadConfig({ VANTAGE_TRUSTED_PROXIES: " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,::1" }).trustedProxies).toEqual([
      "10.0.0.0/8",
      "192.0.2.7",
      "fd00::/8",
      "::1",
    ]);
    expect(loadConfig({ VANTAGE_TRUSTED_PROXIES: "10.0.0.0/8" }, { trustedProxies: "127.0.0.1" }).trustedProxies).toEqual(["127.0.0.1"]);
  });

  it("rejects a trusted proxy that is not an address or CIDR, naming it", () => {
    expect(() => loadConfig({ VANTAGE_TRUSTED_PROXIES: "10.0.0.0/8,nginx.internal,10.0.0.0/33" })).toThrow(
      /VANTAGE_TRUSTED_PROXIES \(or --trusted-proxies\) must be comma-separated IPv4\/IPv6 addresses or CIDRs .*not one: nginx.internal, 10.0.0.0\/33/,
    );
  });

  it("lets the core probe private targets only when the switch or its variable says so", () => {
    expect(loadConfig({ VANTAGE_ALLOW_PRIVATE_TARGETS: "true" }).allowPrivateTargets).toBe(true);
    expect(loadConfig({ VANTAGE_ALLOW_PRIVATE_TARGETS: "False" }).allowPrivateTargets).toBe(false);
    expect(loadConfig({ VANTAGE_ALLOW_PRIVATE_TARGETS: "false" }, { allowPrivateTargets: true }).allowPrivateTargets).toBe(true);
    expect(() => loadConfig({ VANTAGE_ALLOW_PRIVATE_TARGETS: "yes" })).toThrow(
      /VANTAGE_ALLOW_PRIVATE_TARGETS \(or --allow-private-targets\) must be true or false; got "yes"/,
    );
  });

  it("reports every invalid setting at once", () => {
    expect(() => loadConfig({ VANTAGE_PORT: "-1", VANTAGE_LOG_LEVEL: "loud" })).toThrow(/VANTAGE_PORT[\s\S]*VANTAGE_LOG_LEVEL/);
  });
});

describe("maskDatabaseUrl", () => {
  it("hides the password and keeps the rest", () => {
    expect(maskDatabaseUrl("postgres://vantage:s3cret@db.example:5432/vantage")).toBe("postgres://vantage:*****@db.example:5432/vantage");
    expect(maskDatabaseUrl("postgres://db.example/vantage")).toBe("postgres://db.example/vantage");
  });
});
