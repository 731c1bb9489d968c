// The agent's version, read once from its package.json: sent in every hello and in the
// User-Agent of every request its probes make.
import packageJson from "../package.json" with { type: "json" };

export const AGENT_VERSION: string = packageJson.version;
