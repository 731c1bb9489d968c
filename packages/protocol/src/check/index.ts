// Checks: the definition users author, the assertions inside it, and what one run reports.
export * from "./assertions.ts";
export * from "./definition.ts";
export * from "./health.ts";
export * from "./heartbeat.ts";
export * from "./result.ts";
export * from "./maintenance-window.ts";
