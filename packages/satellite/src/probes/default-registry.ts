// The registry `run()` uses unless it is given another: the standard probes (http, tcp, dns,
// tls), plus any type a program embedding the agent adds with registerProbe().
import { type Probe, createProbeRegistry } from "./registry.ts";
import { registerStandardProbes } from "./standard-probes.ts";

export const defaultProbeRegistry = createProbeRegistry();
registerStandardProbes(defaultProbeRegistry);

/** Adds a probe type to the default registry; returns its removal. */
export function registerProbe(type: string, probe: Probe): () => void {
  return defaultProbeRegistry.register(type, probe);
}
