// The public face of @vantage/satellite: run() for the agent, the probe registry for
// check types, and the CLI pieces `vantage satellite` reuses.
export { run, AGENT_VERSION, SHUTDOWN_DEADLINE_MS } from "./main.ts";
export type { RunOptions, RunOutcome } from "./main.ts";
export { loadSatelliteConfig, toSatelliteUrl, DEFAULT_BUFFER_SIZE, SATELLITE_PATH } from "./config.ts";
export type { SatelliteConfig, SatelliteFlags } from "./config.ts";
export { withSatelliteOptions, runSatelliteCommand, satelliteProgram } from "./cli.ts";
export { createProbeRegistry } from "./probes/registry.ts";
export { defaultProbeRegistry, registerProbe } from "./probes/default-registry.ts";
export { registerStandardProbes, standardProbe } from "./probes/standard-probes.ts";
export type { Probe, ProbeRegistry, ProbeResult } from "./probes/registry.ts";
export { SatelliteError } from "./errors.ts";
export type { ExitCode } from "./errors.ts";
export { Secret, REDACTED } from "./secret.ts";
export { systemClock } from "./clock.ts";
export type { Clock, Random } from "./clock.ts";
