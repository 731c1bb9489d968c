// @vitest-environment happy-dom
// The checks list's staggered rows (row-reveal.ts): a row that mounts while the list scrolls
// shows its heavy cells when its turn comes, at most ROWS_PER_FRAME rows a frame, oldest first;
// a row gone before its turn takes no one's turn; a row that mounts while the list is still shows
// everything at once. The frames are driven by hand (requestAnimationFrame queued here), so each
// step is one frame.
import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ROWS_PER_FRAME, useRevealed } from "../src/features/checks/list/row-reveal.ts";

let frames: FrameRequestCallback[] = [];
beforeEach(() => {
  frames = [];
  vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => frames.push(callback));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Runs the frame callbacks queued so far (those they queue wait for the next frame). */
const nextFrame = () =>
  act(() => {
    const due = frames;
    frames = [];
    for (const callback of due) callback(performance.now());
  });

function Row({ id, still }: { id: number; still: boolean }) {
  return <div data-testid={`row-${id}`}>{useRevealed(still) ? "full" : "light"}</div>;
}
const List = ({ ids, still = false }: { ids: readonly number[]; still?: boolean }) => (
  <>
    {ids.map((id) => (
      <Row key={id} id={id} still={still} />
    ))}
  </>
);
const shown = (ids: readonly number[]) => ids.map((id) => screen.getByTestId(`row-${id}`).textContent);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("rows mounted while the list scrolls", () => {
  it("show their heavy cells a few rows per frame, in the order they mounted", async () => {
    const ids = range(0, ROWS_PER_FRAME * 2 + 1);
    render(<List ids={ids} />);
    expect(shown(ids).every((text) => text === "light")).toBe(true);
    await nextFrame();
    expect(shown(ids).filter((text) => text === "full")).toHaveLength(ROWS_PER_FRAME);
    expect(shown(range(0, ROWS_PER_FRAME)).every((text) => text === "full")).toBe(true);
    await nextFrame();
    expect(shown(ids).filter((text) => text === "full")).toHaveLength(ROWS_PER_FRAME * 2);
    await nextFrame();
    expect(shown(ids).every((text) => text === "full")).toBe(true);
    // Nothing left waiting: no frame asked for.
    expect(frames).toHaveLength(0);
  });

  it("give a row's turn to the next one when it scrolls away first", async () => {
    const first = range(0, ROWS_PER_FRAME);
    const next = range(100, 100 + ROWS_PER_FRAME);
    const { rerender } = render(<List ids={[...first, ...next]} />);
    // A fling: the first rows leave before any frame came.
    rerender(<List ids={next} />);
    await nextFrame();
    expect(shown(next).every((text) => text === "full")).toBe(true);
    expect(frames).toHaveLength(0);
  });
});

describe("rows mounted while the list is still", () => {
  it("show everything at once, and stay so", async () => {
    const ids = range(0, ROWS_PER_FRAME * 3);
    const { rerender } = render(<List ids={ids} still />);
    expect(shown(ids).every((text) => text === "full")).toBe(true);
    expect(frames).toHaveLength(0);
    // Scrolling starts: rows already shown keep their cells.
    rerender(<List ids={ids} />);
    expect(shown(ids).every((text) => text === "full")).toBe(true);
  });
});
