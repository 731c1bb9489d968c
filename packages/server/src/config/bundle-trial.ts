// `vantage test`: a bundle's checks run once each (on the core, or on one satellite by name) and
// everything else validated as a plan validates it — automations compiled, channels named —
// with nothing saved. Runs are bounded in number at once: a bundle of hundreds of checks must
// not open hundreds of probes together.
import type { CheckDefinition, ConfigPlan, HeartbeatCheckDefinition, RunOutcome } from "@vantage/protocol";
import { CORE_LOCATION, type TrialRunner } from "../checks/index.ts";
import { VantageError } from "../errors.ts";
import type { PlanStep } from "./config-plan.ts";
import type { StoredResource } from "./kinds/resource-kind.ts";

/** Probes in flight at once. */
const CONCURRENCY = 8;

export interface CheckTrial {
  name: string;
  /** `core`, or the satellite's name. */
  location: string;
  /** The run's outcome; absent when the check was not run (`skipped` says why) or could not be (`error`). */
  outcome?: RunOutcome;
  skipped?: string;
  /** Why the location could not run it (a satellite offline, or not answering in time). */
  error?: string;
}

export interface BundleTrial {
  /** What an apply would do: the bundle is valid (an invalid one is refused before anything runs). */
  plan: ConfigPlan;
  checks: CheckTrial[];
  /** Whether every check that ran came back `up`. */
  passed: boolean;
}

function satelliteNotFound(name: string): VantageError {
  return new VantageError("not_found", "satellite_not_found", `No satellite is named ${JSON.stringify(name)}; list them with GET /api/v1/satellites.`);
}

/** Every check that ran came back up, and none failed to run. */
export const trialsPassed = (trials: readonly CheckTrial[]): boolean =>
  trials.every((trial) => trial.error === undefined && (trial.outcome === undefined || trial.outcome.status === "up"));

/** Runs `steps`' checks once at the location; `satellites` names the stored ones. */
export async function runBundleChecks(
  steps: readonly PlanStep[],
  options: { runTrial: TrialRunner; satellite?: string; satellites: readonly StoredResource[] },
): Promise<CheckTrial[]> {
  let location: typeof CORE_LOCATION | { satelliteId: string } = CORE_LOCATION;
  if (options.satellite !== undefined) {
    const satellite = options.satellites.find((item) => item.name === options.satellite);
    if (!satellite) throw satelliteNotFound(options.satellite);
    location = { satelliteId: satellite.id };
  }
  const where = options.satellite ?? CORE_LOCATION;
  const checks = steps.filter((step) => step.change.kind === "Check" && step.spec !== null);
  const trials: CheckTrial[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < checks.length; index = next++) {
      const step = checks[index]!;
      const definition = { ...step.spec, name: step.change.name } as unknown as CheckDefinition | HeartbeatCheckDefinition;
      const trial: CheckTrial = { name: step.change.name, location: where };
      if (definition.type === "heartbeat") trial.skipped = "a heartbeat check is not run: it waits for pings";
      else {
        try {
          trial.outcome = await options.runTrial(definition, location);
        } catch (error) {
          trial.error = error instanceof Error ? error.message : String(error);
        }
      }
      trials[index] = trial;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, checks.length) }, worker));
  return trials;
}
