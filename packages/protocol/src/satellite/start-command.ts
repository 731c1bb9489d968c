// The command that starts a satellite, as the UI's create and rotate screens and `vantage apply`
// show it: the credentials in environment variables (kept out of the process list), `vantage satellite`.

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** `VANTAGE_URL=… VANTAGE_SATELLITE_ID=… VANTAGE_SATELLITE_TOKEN=… npx vantage satellite` for this core. */
export function satelliteStartCommand(coreUrl: string, satelliteId: string, token: string): string {
  const origin = new URL(coreUrl).origin;
  return [
    `VANTAGE_URL=${shellQuote(origin)}`,
    `VANTAGE_SATELLITE_ID=${shellQuote(satelliteId)}`,
    `VANTAGE_SATELLITE_TOKEN=${shellQuote(token)}`,
    "npx vantage satellite",
  ].join(" \\\n  ");
}
