// Automation definitions: the schema users author against, durations, the JSON Schema, and
// the one walk over a definition's nested steps.
export * from "./definition.ts";
export { FLOW_KINDS, actionKind, forEachAction, mapActions } from "./action-tree.ts";
export type { ActionSpecs, ActionWith, FlowKind, FlowSpecs } from "./action-tree.ts";
export { MAX_AUTOMATION_DELAY_MS, boundedDurationSchema, durationMs } from "./duration.ts";
