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
  return <div data-testid={`row-${id}`}>{useRevealed(String(id), still) ? "full" : "light"}</div>;
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

describe("a row reused for another check (a slot)", () => {
  /** One row, keyed by its slot, showing one check after another. */
  function Slot({ check, still }: { check: string; still: boolean }) {
    return <div data-testid="slot">{`${check} ${useRevealed(check, still) ? "full" : "light"}`}</div>;
  }
  const slot = () => screen.getByTestId("slot").textContent;

  it("waits for its turn again when its new check comes while the list scrolls", async () => {
    const { rerender } = render(<Slot key={0} check="a" still />);
    expect(slot()).toBe("a full");
    rerender(<Slot key={0} check="b" still={false} />);
    expect(slot()).toBe("b light");
    // Another check before its turn: that one waits, the first's turn does nothing.
    rerender(<Slot key={0} check="c" still={false} />);
    expect(slot()).toBe("c light");
    await nextFrame();
    expect(slot()).toBe("c full");
    expect(frames).toHaveLength(0);
  });

  it("shows its new check at once when the list is still", () => {
    const { rerender } = render(<Slot key={0} check="a" still={false} />);
    expect(slot()).toBe("a light");
    rerender(<Slot key={0} check="b" still />);
    expect(slot()).toBe("b full");
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
