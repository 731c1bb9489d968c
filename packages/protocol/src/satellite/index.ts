// The satellite protocol: frames in both directions and their parser.
export * from "./frames.ts";
export { parseFrame } from "./parse-frame.ts";
export type { FrameParseResult } from "./parse-frame.ts";
export { assignmentParts } from "./assignment-parts.ts";
export { satelliteStartCommand, shellQuote } from "./start-command.ts";
