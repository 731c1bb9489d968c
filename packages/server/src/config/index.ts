// Config as code: bundles planned and applied in one transaction, exported, with ownership and drift.
export { startConfig } from "./start.ts";
export type { ConfigModule, ConfigModuleParts } from "./start.ts";
export { ConfigService } from "./config-service.ts";
export type { ApplyResult, ExportFilter } from "./config-service.ts";
export { processIo, registerConfigCommands } from "./cli/config-commands.ts";
export { ConfigApiError, createConfigClient } from "./cli/config-client.ts";
// A bundle's files as the CLI reads them (vantage replay -f takes an automation of a bundle too).
export { formatIssue, loadBundle, resolveEnvReferences } from "./cli/bundle-files.ts";
