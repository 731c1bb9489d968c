// Probe types by name: the scheduler looks each assignment's `type` up here, and the
// registry's types are the capabilities the agent announces in its hello.
import type { Assignment, CheckResultDetail, CheckRunStatus } from "@vantage/protocol";

export interface ProbeResult {
  status: CheckRunStatus;
  detail: CheckResultDetail;
}

/** Runs one check once. Must stop promptly when `signal` aborts (timeout or unassigned). */
export type Probe = (assignment: Assignment, signal: AbortSignal) => Promise<ProbeResult>;

export interface ProbeRegistry {
  /** Adds a probe type; returns its removal. Throws if the type is already registered. */
  register(type: string, probe: Probe): () => void;
  get(type: string): Probe | undefined;
  /** Registered types, sorted: the agent's capabilities. */
  types(): string[];
}

export function createProbeRegistry(): ProbeRegistry {
  const probes = new Map<string, Probe>();
  return {
    register(type, probe) {
      if (probes.has(type)) throw new Error(`A probe for check type "${type}" is already registered.`);
      probes.set(type, probe);
      return () => {
        if (probes.get(type) === probe) probes.delete(type);
      };
    },
    get: (type) => probes.get(type),
    types: () => [...probes.keys()].sort(),
  };
}
