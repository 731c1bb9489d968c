// Staggered row content while the checks list scrolls. A fling brings a whole screen of new rows
// every frame, and the frame that shows them styles, lays out and paints all of them at once:
// 16–25 ms of CPU per frame at 10,000 checks (bench/ui-checks-list), which a busy host stretches
// past 50 ms of wall time. So a row that mounts while the list scrolls shows its light cells at
// once (status, name, type, target) and its heavy ones (location dots, uptime bar, sparkline,
// last result) when its turn comes: at most ROWS_PER_FRAME rows a frame, oldest first, and a row
// that scrolls away before its turn costs nothing more. Rows mounted while the list is still (a
// visit, a filter, a live update) show everything at once. The same idea as react-window's
// `isScrolling` placeholders, but paced, so the end of a fling does not fill a screen in one frame.
import { useEffect, useState } from "react";

/** Heavy cells revealed per frame: about a quarter of a screen of rows (bench/ui-checks-list). */
export const ROWS_PER_FRAME = 4;

// Rows waiting for their turn, in the order they mounted (a Set keeps insertion order).
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
 * Whether the row shows its heavy cells: at once if it mounted while the list was still (`now`
 * then), else from its turn on. Once shown they stay.
 */
export function useRevealed(now: boolean): boolean {
  const [revealed, setRevealed] = useState(now);
  useEffect(() => {
    if (revealed) return;
    const reveal = () => setRevealed(true);
    waiting.add(reveal);
    frame ??= requestAnimationFrame(revealSome);
    return () => void waiting.delete(reveal);
  }, [revealed]);
  return revealed;
}
