// The agent's configuration: env and flags (flags win), defaults, errors that name the setting (exit 2), and a token that never prints.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadSatelliteConfig, toSatelliteUrl } from "../src/config.ts";
import { SatelliteError } from "../src/errors.ts";
import { run } from "../src/main.ts";

const ID = "0f8fad5b-d9cb-469f-a165-70867728950e";
const TOKEN = `vsat_${"A".repeat(43)}`;
const VALID = { VANTAGE_URL: "ws://core.example:8080", VANTAGE_SATELLITE_ID: ID, VANTAGE_SATELLITE_TOKEN: TOKEN };

function configError(env: Record<string, string>, flags = {}): SatelliteError {
  try {
    loadSatelliteConfig(env, flags);
  } catch (error) {
    return error as SatelliteError;
  }
  throw new Error("expected the configuration to be refused");
}

describe("the core's URL", () => {
  it.each([
    ["ws://core.example:8080", "ws://core.example:8080/ws/satellite"],
    ["http://core.example:8080/", "ws://core.example:8080/ws/satellite"],
    ["https://core.example", "wss://core.example/ws/satellite"],
    ["wss://core.example/custom/path", "wss://core.example/custom/path"],
  ])("turns %s into %s", (given, expected) => {
    expect(toSatelliteUrl(given)).toBe(expected);
  });

  it.each(["core.example:8080", "ftp://core.example", "not a url", "http://"])("refuses %s", (given) => {
    expect(toSatelliteUrl(given)).toBeUndefined();
  });
});

describe("loading the agent's configuration", () => {
  it("takes the environment, lets flags win and fills the defaults", () => {
    const config = loadSatelliteConfig(VALID, { url: "https://other.example", id: ID.toUpperCase() }, { isTTY: false });
    expect(config).toMatchObject({ url: "wss://other.example/ws/satellite", satelliteId: ID, logLevel: "info", logFormat: "json", bufferSize: 10_000 });
    expect(config.token.reveal()).toBe(TOKEN);
    expect(loadSatelliteConfig(VALID, {}, { isTTY: true }).logFormat).toBe("pretty");
    expect(loadSatelliteConfig(VALID, { bufferSize: "25", logFormat: "json" }, { isTTY: true })).toMatchObject({ bufferSize: 25, logFormat: "json" });
  });

  it("prints the token as <redacted> in every form", () => {
    const { token } = loadSatelliteConfig(VALID);
    expect(String(token)).toBe("<redacted>");
    expect(JSON.stringify({ token })).toBe('{"token":"<redacted>"}');
    expect(inspect({ token })).not.toContain(TOKEN);
  });

  it("names each missing setting with its flag and variable, exit code 2", () => {
    const error = configError({});
    expect(error).toBeInstanceOf(SatelliteError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("--url (or VANTAGE_URL) is required");
    expect(error.message).toContain("--id (or VANTAGE_SATELLITE_ID) is required");
    expect(error.message).toContain("--token (or VANTAGE_SATELLITE_TOKEN) is required");
  });

  it("explains a bad value without ever showing the token", () => {
    const badToken = "vsat_secret-but-too-short";
    const error = configError({ ...VALID, VANTAGE_SATELLITE_TOKEN: badToken }, { bufferSize: "lots", logLevel: "loud", id: "satellite-1" });
    expect(error.message).toContain("--token (or VANTAGE_SATELLITE_TOKEN) must be the satellite's token");
    expect(error.message).not.toContain(badToken);
    expect(error.message).toContain('--buffer-size (or VANTAGE_SATELLITE_BUFFER_SIZE) must be a number; got "lots"');
    expect(error.message).toContain("--id (or VANTAGE_SATELLITE_ID) must be the satellite's id (a uuid)");
    expect(error.message).toContain("--log-level (or VANTAGE_LOG_LEVEL)");
  });

  it("refuses to start with a --ca-file it cannot read, exit code 2", async () => {
    const config = loadSatelliteConfig({ ...VALID, VANTAGE_CA_FILE: "/nonexistent/ca.pem", VANTAGE_LOG_LEVEL: "silent" });
    const refused = run(config, { stopOnSignals: [] });
    await expect(refused).rejects.toBeInstanceOf(SatelliteError);
    await expect(refused).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining("--ca-file (or VANTAGE_CA_FILE) cannot be read") });
  });
});
