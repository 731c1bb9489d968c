// The command that starts a satellite, as the UI's create and rotate screens and `vantage apply`
// show it: the credentials in environment variables (kept out of the process list), `vantage satellite`.

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

/**
 * `VANTAGE_URL=… VANTAGE_SATELLITE_ID=… VANTAGE_SATELLITE_TOKEN=… npx --no -- vantage-satellite` for
 * this core, run in a checkout of Vantage. `--no`: npx never fetches a package from the registry —
 * ours are not published, and the registry's `vantage` is an unrelated project, which a plain
 * `npx vantage` outside a checkout offered to install and run. `--`: what follows is the agent's
 * (after `--no`, npx took the agent's flags for its own).
 */
export function satelliteStartCommand(coreUrl: string, satelliteId: string, token: string): string {
  const origin = new URL(coreUrl).origin;
  return [
    `VANTAGE_URL=${shellQuote(origin)}`,
    `VANTAGE_SATELLITE_ID=${shellQuote(satelliteId)}`,
    `VANTAGE_SATELLITE_TOKEN=${shellQuote(token)}`,
    "npx --no -- vantage-satellite",
  ].join(" \\\n  ");
}
