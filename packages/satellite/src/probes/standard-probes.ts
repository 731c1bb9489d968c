// The check types every agent runs — http, tcp, dns and tls from @vantage/probes, the library
// the core runs too — behind the registry's Probe signature. Each run validates its
// assignment's config with probeSpecSchema: a config this agent cannot read (a newer core's
// option, a broken definition) is that run's `error` with zod's words, never a crash.
import { createOutboundClient, type OutboundClient } from "@vantage/outbound";
import { PROBES, type ProbeOptions, runProbe } from "@vantage/probes";
import { type Assignment, type ProbeSpec, probeSpecSchema } from "@vantage/protocol";
import type { z } from "zod";
import { AGENT_VERSION } from "../version.ts";
import type { Probe, ProbeRegistry, ProbeResult } from "./registry.ts";

/** Requests from this agent's probes say who sent them. */
const agentOutbound = createOutboundClient({ userAgent: `Vantage/${AGENT_VERSION}` });

/** `path: message` for each issue, the way a user finds the field to fix. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "config"}: ${issue.message}`).join("; ");
}

function invalidConfig(error: z.ZodError): ProbeResult {
  const message = `the check's configuration is invalid: ${describeIssues(error)}`.slice(0, 1_000);
  return { status: "error", detail: { reason: message, error: { code: "invalid_config", message } } };
}

// The scheduler hands a probe the same assignment object every run until it changes, so each
// config is parsed once, not every interval.
const parsedSpecs = new WeakMap<Assignment, { ok: true; spec: ProbeSpec } | { ok: false; result: ProbeResult }>();

function specOf(assignment: Assignment): { ok: true; spec: ProbeSpec } | { ok: false; result: ProbeResult } {
  const cached = parsedSpecs.get(assignment);
  if (cached) return cached;
  // The assignment's type and timeout are the core's word; the config carries the rest.
  const parsed = probeSpecSchema.safeParse({ timeoutMs: assignment.timeoutMs, ...assignment.config, type: assignment.type });
  const outcome = parsed.success ? ({ ok: true, spec: parsed.data } as const) : ({ ok: false, result: invalidConfig(parsed.error) } as const);
  parsedSpecs.set(assignment, outcome);
  return outcome;
}

/** The agent's probe for any standard type: validate the config, then run the library's probe. */
export function standardProbe(options: Omit<ProbeOptions, "signal"> = { outbound: agentOutbound }): Probe {
  return async (assignment, signal) => {
    const spec = specOf(assignment);
    if (!spec.ok) return spec.result;
    return runProbe(spec.spec, { ...options, signal });
  };
}

/** Registers http, tcp, dns and tls; returns their removal. */
export function registerStandardProbes(registry: ProbeRegistry, outbound: OutboundClient = agentOutbound): () => void {
  const probe = standardProbe({ outbound });
  const removals = Object.keys(PROBES).map((type) => registry.register(type, probe));
  return () => removals.forEach((remove) => remove());
}
