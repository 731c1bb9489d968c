// The UI's answer types (src/api/api-types.ts) are derived from the core's answer schemas, the
// ones its OpenAPI document is built from. This holds those schemas to what the handlers return
// (the server's own view types): a schema that drifts from its handler's answer, or a view field
// the schema leaves out, fails `npm run typecheck` here.
import { describe, expectTypeOf, it } from "vitest";
import type { AutomationView } from "../../server/src/automations/definitions/automation-store.ts";
import type { RunView, SkipView } from "../../server/src/automations/runs/automation-runs.ts";
import type { StepView } from "../../server/src/automations/runs/run-records.ts";
import type { ReplayJobView } from "../../server/src/automations/replay/replay-jobs.ts";
import type { RunChange as ServerRunChange } from "../../server/src/automations/runs/change-links.ts";
import type { CheckHealthSummary as ServerCheckHealthSummary } from "../../server/src/checks/definitions/check-view.ts";
import type { TriggerInfo as ServerTriggerInfo } from "../../server/src/automations/triggers/trigger-registry.ts";
import type { CheckSummary } from "../../server/src/checks/api/summary-routes.ts";
import type { CheckView } from "../../server/src/checks/definitions/check-view.ts";
import type { CheckHealthState } from "../../server/src/checks/health/check-health-entity.ts";
import type { CheckStats as ServerCheckStats } from "../../server/src/checks/results/reads/check-stats.ts";
import type { StoredResult as ServerStoredResult } from "../../server/src/checks/results/reads/list-results.ts";
import type { TrialRun } from "../../server/src/checks/scheduling/core-runs.ts";
import type { ResourceOwner as ServerResourceOwner } from "../../server/src/config/ownership-store.ts";
import type { SatelliteView } from "../../server/src/satellites/registry/registry.ts";
import type {
  Automation,
  Check,
  CheckHealth,
  CheckHealthSummary,
  CheckStats,
  CheckSummaries,
  PingToken,
  ProbeResult,
  ReplayJob,
  ResourceOwner,
  Run,
  RunChange,
  Satellite,
  Skip,
  Step,
  StoredResult,
  TriggerInfo,
} from "../src/api/client.ts";
import type { z } from "zod";
import type { pingTokenResponseSchema } from "@vantage/protocol";
import type { checkUptimeSchema, incidentPageSchema } from "../../server/src/checks/api/check-api-schemas.ts";
import type { MaintenanceWindowView } from "../../server/src/checks/maintenance-windows/maintenance-window-store.ts";
import type { HistoryChange as ServerHistoryChange } from "../../server/src/events/change-history.ts";
import type { channelViewSchema, testDeliveryResultSchema } from "../../server/src/notifications/channel-schemas.ts";
import type { Channel, CheckUptime, HistoryChange, Incident, MaintenanceWindow, TestDelivery } from "../src/api/operations-client.ts";

describe("the client's response types", () => {
  it("are the core's views of satellites, automations, runs, skips, steps and triggers", () => {
    expectTypeOf<Satellite>().toEqualTypeOf<SatelliteView>();
    expectTypeOf<Automation>().toEqualTypeOf<AutomationView>();
    expectTypeOf<AutomationView>().toExtend<Automation>();
    expectTypeOf<RunView>().toExtend<Run>();
    expectTypeOf<Run>().toExtend<RunView>();
    expectTypeOf<SkipView>().toExtend<Skip>();
    expectTypeOf<StepView>().toExtend<Step>();
    expectTypeOf<ServerTriggerInfo>().toExtend<TriggerInfo>();
    expectTypeOf<ReplayJobView>().toExtend<ReplayJob>();
    // The UI names only the kinds it has screens for; the rest of an owner is the core's.
    expectTypeOf<Omit<ResourceOwner, "kind">>().toEqualTypeOf<Omit<ServerResourceOwner, "kind">>();
    expectTypeOf<RunChange>().toEqualTypeOf<ServerRunChange>();
  });

  it("are the core's views of checks, their health, summaries, stats, results and trial runs", () => {
    // The core's view also holds heartbeat checks, which the UI lists but does not edit yet.
    expectTypeOf<Check>().toExtend<CheckView>();
    expectTypeOf<Extract<CheckView, { type: "http" }>>().toExtend<Check>();
    expectTypeOf<CheckHealthState>().toExtend<CheckHealth>();
    expectTypeOf<CheckHealth>().toExtend<CheckHealthState>();
    expectTypeOf<CheckHealthSummary>().toEqualTypeOf<ServerCheckHealthSummary>();
    // A heartbeat check's ping URL, answered on create and rotation.
    expectTypeOf<PingToken>().toEqualTypeOf<z.output<typeof pingTokenResponseSchema>>();
    expectTypeOf<CheckSummary>().toExtend<CheckSummaries["summaries"][number]>();
    expectTypeOf<ServerCheckStats>().toExtend<CheckStats>();
    expectTypeOf<ServerStoredResult>().toExtend<StoredResult>();
    expectTypeOf<TrialRun & { location: string }>().toExtend<ProbeResult>();
  });

  it("are the core's views of changes, incidents, uptime, channels and maintenance windows", () => {
    expectTypeOf<ServerHistoryChange>().toExtend<HistoryChange>();
    expectTypeOf<z.infer<typeof incidentPageSchema>["incidents"][number]>().toExtend<Incident>();
    expectTypeOf<z.infer<typeof checkUptimeSchema>>().toExtend<CheckUptime>();
    expectTypeOf<z.infer<typeof channelViewSchema>>().toExtend<Channel>();
    expectTypeOf<z.infer<typeof testDeliveryResultSchema>>().toExtend<TestDelivery>();
    expectTypeOf<MaintenanceWindowView>().toExtend<MaintenanceWindow>();
  });
});
