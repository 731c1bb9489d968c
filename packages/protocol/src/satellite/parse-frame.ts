// Parses one text frame with a schema: the single place where untrusted JSON becomes a
// typed frame, returning a readable error instead of throwing.
import type { z } from "zod";
import { summarizeIssues, validateInput } from "../issues.ts";

export type FrameParseResult<T> = { ok: true; frame: T } | { ok: false; code: "malformed_json" | "invalid_frame"; message: string };

export function parseFrame<T>(schema: z.ZodType<T>, text: string): FrameParseResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: "malformed_json", message: "The frame is not valid JSON." };
  }
  const parsed = validateInput(schema, json, { root: "the frame" });
  if (!parsed.ok) return { ok: false, code: "invalid_frame", message: `Invalid frame: ${summarizeIssues(parsed.issues)}.` };
  return { ok: true, frame: parsed.value };
}
