// The command that starts a satellite, as the UI and `vantage apply` show it: credentials in the
// environment, for the core's origin, quoted for a POSIX shell.
import { describe, expect, it } from "vitest";
import { satelliteStartCommand, shellQuote } from "../src/index.ts";

describe("the satellite start command", () => {
  it("passes the credentials in the environment of `vantage satellite`, for the core's origin", () => {
    expect(satelliteStartCommand("https://vantage.example:8443/satellites?x=1", "6f0c1a2b-0000-4000-8000-000000000001", "vsat_abc-DEF_123")).toBe(
      "VANTAGE_URL=https://vantage.example:8443 \\\n  VANTAGE_SATELLITE_ID=6f0c1a2b-0000-4000-8000-000000000001 \\\n  VANTAGE_SATELLITE_TOKEN=vsat_abc-DEF_123 \\\n  npx --no -- vantage-satellite",
    );
  });

  it("quotes what a shell would split or expand", () => {
    expect(shellQuote("plain-value_1.2")).toBe("plain-value_1.2");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's $HOME")).toBe(`'it'"'"'s $HOME'`);
  });
});
