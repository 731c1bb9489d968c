// Where a check runs and where it does not though selected: the core, and each satellite its
// runOn selects, assigned or skipped with the reason (an agent without a probe for the type).
import type { RunOn } from "@vantage/protocol";
import { compileSelector, selectableSatellite, selects } from "./satellite-selector.ts";

/** A satellite as the registry lists it: what the rule and the reasons read. */
export interface ListedSatellite {
  id: string;
  name: string;
  region: string;
  tags: string[];
  /** What its last hello announced: the probe types it runs (and protocol features). */
  capabilities: string[];
  /** Its agent's version; null until its first hello. */
  version: string | null;
}

export type SkipReason = "check_disabled" | "capability_missing" | "never_connected";

export interface SatelliteLocation {
  id: string;
  name: string;
  region: string;
  /** `assigned`: it runs the check; `skipped`: selected, but it does not (see reason). */
  status: "assigned" | "skipped";
  reason?: SkipReason;
  message?: string;
  version: string | null;
  capabilities: string[];
}

/** A check as the rule reads it (a heartbeat check has no runOn: it runs nowhere). */
export interface LocatedCheck {
  type: string;
  enabled: boolean;
  runOn?: RunOn;
}

export interface CheckLocations {
  /** The core location runs it (runOn.core, enabled). */
  core: boolean;
  /** Every satellite runOn.satellites selects, by name. */
  satellites: SatelliteLocation[];
}

const PROTOCOL_CAPABILITIES = new Set(["run-on-demand", "assignment-parts"]);

function skipped(check: LocatedCheck, satellite: ListedSatellite): Pick<SatelliteLocation, "status" | "reason" | "message"> | null {
  if (!check.enabled) return { status: "skipped", reason: "check_disabled", message: "The check is disabled: no location runs it." };
  if (satellite.version === null)
    return {
      status: "skipped",
      reason: "never_connected",
      message: `The satellite has never connected: it gets the check at its first hello if its agent has a ${check.type} probe.`,
    };
  if (satellite.capabilities.includes(check.type)) return null;
  const probes = satellite.capabilities.filter((capability) => !PROTOCOL_CAPABILITIES.has(capability));
  return {
    status: "skipped",
    reason: "capability_missing",
    message:
      `Its agent (version ${satellite.version}) announces no ${check.type} probe (it runs: ${probes.join(", ") || "nothing"}); ` +
      `upgrade the agent or register a ${check.type} probe, then reconnect it.`,
  };
}

/** The check's locations among `satellites` (the whole fleet; only those its selector selects are kept). */
export function checkLocations(check: LocatedCheck, satellites: readonly ListedSatellite[]): CheckLocations {
  const { runOn } = check;
  const selector = runOn?.satellites ? compileSelector(runOn.satellites) : undefined;
  const selected = selector ? satellites.filter((satellite) => selects(selector, selectableSatellite(satellite, satellite.capabilities))) : [];
  return {
    core: check.enabled && runOn?.core === true,
    satellites: selected.map((satellite) => ({
      id: satellite.id,
      name: satellite.name,
      region: satellite.region,
      status: "assigned",
      ...skipped(check, satellite),
      version: satellite.version,
      capabilities: satellite.capabilities,
    })),
  };
}
