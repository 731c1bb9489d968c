// An assignment set cut into parts that each fit a frame (MAX_FRAME_BYTES), in order: the core
// sends a set larger than a frame as a welcome or assignments frame followed by more of them.
import { type Assignment, MAX_FRAME_BYTES } from "./frames.ts";

/** Room left in a frame for its envelope (type, session id, `more`): far more than they take. */
const ENVELOPE_BYTES = 1024;

const encoder = new TextEncoder();

/**
 * Consecutive parts of `assignments`, each at most `maxFrameBytes` once framed; one part (maybe
 * empty) when the set fits. An assignment larger than a frame on its own goes alone in a part.
 */
export function assignmentParts(assignments: readonly Assignment[], maxFrameBytes = MAX_FRAME_BYTES): Assignment[][] {
  const budget = maxFrameBytes - ENVELOPE_BYTES;
  const parts: Assignment[][] = [[]];
  let bytes = 0;
  for (const assignment of assignments) {
    // Its JSON and the comma that separates it from the one before.
    const size = encoder.encode(JSON.stringify(assignment)).length + 1;
    if (bytes + size > budget && parts.at(-1)!.length > 0) {
      parts.push([]);
      bytes = 0;
    }
    parts.at(-1)!.push(assignment);
    bytes += size;
  }
  return parts;
}
