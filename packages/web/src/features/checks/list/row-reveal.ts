// Staggered row content while the checks list scrolls. A fling brings a whole screen of new rows
// every frame, and the frame that shows them styles, lays out and paints all of them at once:
// 16–25 ms of CPU per frame at 10,000 checks (bench/ui-checks-list), which a busy host stretches
// past 50 ms of wall time. So a row that gets a check while the list scrolls shows its name at
// once and its other cells when its turn comes: at most ROWS_PER_FRAME rows a frame, oldest
// first, and a row that scrolls away (or gets yet another check) before its turn costs nothing
// more. Rows that get their check while the list is still (a visit, a filter, a live update) show
// everything at once. The same idea as react-window's `isScrolling` placeholders, but paced, so the
// end of a fling does not fill a screen in one frame.
//
// A row is a slot the list reuses for the checks that scroll through it (checks-page.tsx), so
// "revealed" belongs to what the row shows (`content`, the check's id), not to the row: a slot
// that gets another check while the list scrolls waits for its turn again.
import { useEffect, useState } from "react";

/** Heavy cells revealed per frame: about a quarter of a screen of rows (bench/ui-checks-list). */
export const ROWS_PER_FRAME = 4;

// Rows waiting for their turn, in the order they got their content (a Set keeps insertion order).
const waiting = new Set<() => void>();
let frame: number | undefined;

function revealSome() {
  frame = undefined;
  let revealed = 0;
  for (const reveal of waiting) {
    if (revealed++ === ROWS_PER_FRAME) break;
    waiting.delete(reveal);
    reveal();
  }
  if (waiting.size > 0) frame = requestAnimationFrame(revealSome);
}

/**
 * Whether the row shows its heavy cells for `content`: at once if it got that content while the
 * list was still (`now` then), else from its turn on. Once shown they stay, until the content changes.
 */
export function useRevealed(content: string, now: boolean): boolean {
  const [state, setState] = useState({ content, revealed: now });
  // New content (a recycled row): decided while rendering, as React allows for a component's own
  // state, so the row never shows the new check with a stale "revealed".
  const current = state.content === content ? state : { content, revealed: now };
  if (current !== state) setState(current);
  const { revealed } = current;
  useEffect(() => {
    if (revealed) return;
    const reveal = () => setState((previous) => (previous.content === content ? { content, revealed: true } : previous));
    waiting.add(reveal);
    frame ??= requestAnimationFrame(revealSome);
    return () => void waiting.delete(reveal);
  }, [content, revealed]);
  return revealed;
}
