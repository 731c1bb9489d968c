// Test-only preload for agent processes (NODE_OPTIONS=--import …): names listed in the JSON file
// VANTAGE_TEST_HOSTS ({ "name": "address" }) resolve to that address, read at every lookup, so a
// test can cut one agent off a target (point it at an address nothing listens on) and restore it.
import dnsPromises from "node:dns/promises";
import { readFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import process from "node:process";

const original = dnsPromises.lookup;
dnsPromises.lookup = async (name, options) => {
  const hosts = JSON.parse(readFileSync(process.env.VANTAGE_TEST_HOSTS, "utf8"));
  const address = hosts[name];
  if (address === undefined) return original(name, options);
  const found = { address, family: address.includes(":") ? 6 : 4 };
  return options && options.all ? [found] : found;
};
// ESM imports of node:dns/promises see the replacement too.
syncBuiltinESMExports();
