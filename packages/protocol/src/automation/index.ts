// Automation definitions: the schema users author against, durations, and the JSON Schema.
export * from "./definition.ts";
export { MAX_AUTOMATION_DELAY_MS, boundedDurationSchema, durationMs } from "./duration.ts";
