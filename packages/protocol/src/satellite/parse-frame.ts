// Parses one text frame with a schema: the single place where untrusted JSON becomes a
// typed frame, returning a readable error instead of throwing.
import { z } from "zod";

export type FrameParseResult<T> = { ok: true; frame: T } | { ok: false; code: "malformed_json" | "invalid_frame"; message: string };

export function parseFrame<T>(schema: z.ZodType<T>, text: string): FrameParseResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: "malformed_json", message: "The frame is not valid JSON." };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, code: "invalid_frame", message: z.prettifyError(parsed.error) };
  return { ok: true, frame: parsed.data };
}
