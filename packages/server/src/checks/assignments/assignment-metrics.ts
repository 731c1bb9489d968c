// Metrics of satellite assignments on this process: how many checks satellites can be
// assigned, and how many `assignments` frames changes pushed.
import { Counter, Gauge, type Registry } from "prom-client";

export interface AssignmentMetrics {
  pushes: Counter;
}

export function createAssignmentMetrics(registry: Registry | undefined, assignableChecks: () => number): AssignmentMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: "vantage_satellite_assignable_checks",
    help: "Enabled checks that run on satellites, as this process's assignment index holds them",
    registers,
    collect() {
      this.set(assignableChecks());
    },
  });
  return {
    pushes: new Counter({
      name: "vantage_satellite_assignment_pushes_total",
      help: "Assignments frames sent to connected satellites because a check or the satellite's region or tags changed (welcomes not counted)",
      registers,
    }),
  };
}
