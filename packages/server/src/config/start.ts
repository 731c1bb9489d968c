// Starts config as code in a core: one adapter per resource kind over the modules' own stores,
// and the /config API. It acts on nothing by itself: every write is an apply someone asked for.
import { HEARTBEAT_INTERVAL_MS } from "@vantage/protocol";
import { AutomationStore, type AutomationsModule } from "../automations/index.ts";
import type { ChecksModule } from "../checks/index.ts";
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import type { NotificationsModule } from "../notifications/index.ts";
import type { SatellitesModule } from "../satellites/index.ts";
import { createConfigRoutes } from "./config-routes.ts";
import { ConfigService } from "./config-service.ts";
import { ConfigSecretStore } from "./secrets/config-secret-store.ts";
import { automationKind } from "./kinds/automation-kind.ts";
import { channelKind } from "./kinds/channel-kind.ts";
import { checkKind } from "./kinds/check-kind.ts";
import { maintenanceWindowKind } from "./kinds/maintenance-window-kind.ts";
import { satelliteKind } from "./kinds/satellite-kind.ts";

/** A bundle of 500 resources with long automations and headers fits; the rest of the API keeps its 64 KiB. */
export const MAX_BUNDLE_BODY_BYTES = 5 * 1024 * 1024;

export interface ConfigModule extends CoreModule {
  service: ConfigService;
}

export interface ConfigModuleParts {
  satellites: Pick<SatellitesModule, "registry" | "service">;
  notifications: Pick<NotificationsModule, "service">;
  checks: Pick<ChecksModule, "store" | "maintenanceWindows" | "runTrial">;
  automations: Pick<AutomationsModule, "compiler">;
}

export function startConfig(deps: ModuleDeps, parts: ConfigModuleParts): ConfigModule {
  const channels = parts.notifications.service.channels;
  const automations = new AutomationStore(deps.pool, deps.box);
  const secrets = new ConfigSecretStore(deps.pool, deps.box);
  const service = new ConfigService({
    pool: deps.pool,
    secrets,
    runTrial: parts.checks.runTrial,
    adapters: [
      channelKind(channels, (tx, channel) => automations.namesNotifying(channel, tx)),
      satelliteKind({
        registry: parts.satellites.registry,
        service: parts.satellites.service,
        heartbeatIntervalMs: deps.config.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
      }),
      checkKind(parts.checks.store, { allowPrivateTargets: deps.config.allowPrivateTargets ?? false, now: deps.now }),
      maintenanceWindowKind(parts.checks.maintenanceWindows),
      automationKind({
        store: automations,
        compiler: parts.automations.compiler,
        channelIds: async () => new Set((await channels.list()).map((channel) => channel.id)),
      }),
    ],
  });
  return { routes: { "/config": createConfigRoutes({ service, pool: deps.pool, secrets }) }, bodyLimits: { "/config": MAX_BUNDLE_BODY_BYTES }, service };
}
