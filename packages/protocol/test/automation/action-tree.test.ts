// The one walk over a definition's steps: it reaches every step, nested in choose and parallel
// too, in definition order, under the path that names it, and rebuilds the tree it was given.
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type Action, type ActionWith, actionKind, type Condition, forEachAction, mapActions } from "../../src/index.ts";

const log = (message: string): Action => ({ continueOnError: false, log: { message } });

// actions.0 log a · actions.1 choose (when.0.then: b, c; when.1.then: parallel [d] [e]; else: f) · actions.2 log g
const tree: Action[] = [
  log("a"),
  {
    id: "pick",
    continueOnError: false,
    choose: {
      when: [
        { conditions: [{ compare: { left: 1, op: "==", right: 1 } }], then: [log("b"), log("c")] },
        { conditions: [{ compare: { left: 1, op: "==", right: 2 } }], then: [{ continueOnError: true, parallel: { branches: [[log("d")], [log("e")]] } }] },
      ],
      else: [log("f")],
    },
  },
  log("g"),
];

const visited = (steps: readonly Action[]) => {
  const seen: string[] = [];
  forEachAction(steps, "actions", (action, path) => seen.push(`${path} ${actionKind(action)}${"log" in action ? ` ${action.log.message}` : ""}`));
  return seen;
};

describe("walking a definition's steps", () => {
  it("visits every step in definition order, a step before the steps nested in it, each under its path", () => {
    expect(visited(tree)).toEqual([
      "actions.0 log a",
      "actions.1 choose",
      "actions.1.choose.when.0.then.0 log b",
      "actions.1.choose.when.0.then.1 log c",
      "actions.1.choose.when.1.then.0 parallel",
      "actions.1.choose.when.1.then.0.parallel.branches.0.0 log d",
      "actions.1.choose.when.1.then.0.parallel.branches.1.0 log e",
      "actions.1.choose.else.0 log f",
      "actions.2 log g",
    ]);
  });

  it("maps nested steps first, so each step is built from its mapped children", () => {
    const order: string[] = [];
    const counts = mapActions<number>(tree, "actions", (action, path) => {
      order.push(path);
      if ("choose" in action) return 1 + [...action.choose.when.flatMap((branch) => branch.then), ...(action.choose.else ?? [])].reduce((sum, n) => sum + n, 0);
      if ("parallel" in action) return 1 + action.parallel.branches.flat().reduce((sum, n) => sum + n, 0);
      return 1;
    });
    expect(counts).toEqual([1, 7, 1]);
    expect(order.indexOf("actions.1.choose.when.1.then.0.parallel.branches.1.0")).toBeLessThan(order.indexOf("actions.1.choose.when.1.then.0"));
    expect(order.indexOf("actions.1.choose.when.1.then.0")).toBeLessThan(order.indexOf("actions.1"));
  });

  it("rebuilds the same tree when the visitor keeps every step, without adding an else the choose did not have", () => {
    const withoutElse: Action[] = [{ continueOnError: false, choose: { when: [{ conditions: [], then: [log("x")] }] } }];
    expect(mapActions<Action>(tree, "actions", (action) => action)).toEqual(tree);
    expect(mapActions<Action>(withoutElse, "actions", (action) => action)[0]).not.toHaveProperty("choose.else");
  });

  it("replaces the steps the visitor replaces, nested ones too, and leaves the given tree untouched", () => {
    const before = structuredClone(tree);
    const shouted = mapActions<Action>(tree, "actions", (action) => ("log" in action ? log(action.log.message.toUpperCase()) : action));
    expect(visited(shouted)).toEqual(visited(tree).map((line) => line.replace(/ log (\w)$/, (_, letter: string) => ` log ${letter.toUpperCase()}`)));
    expect(shouted[1]).toMatchObject({ id: "pick", choose: { else: [log("F")] } });
    expect(tree).toEqual(before);
  });

  it("names an object that is no step as having no kind", () => {
    expect(actionKind({ continueOnError: false, delay: { duration: "1s" } })).toBe("delay");
    expect(actionKind({ continueOnError: false })).toBeUndefined();
    expect(actionKind({ choose: undefined, stop: {} })).toBe("stop");
  });

  it("types a tree of authored steps as Action", () => {
    expectTypeOf<ActionWith<Action>>().toEqualTypeOf<Action>();
  });
});

// Any valid tree of steps, a few levels deep.
const { steps } = fc.letrec<{ step: Action; steps: Action[] }>((tie) => ({
  step: fc.oneof(
    { depthSize: "small", maxDepth: 3, withCrossShrink: true },
    fc.string({ minLength: 1, maxLength: 3 }).map(log),
    fc
      .record({ conditions: fc.constant<Condition[]>([{ compare: { left: 1, op: "==", right: 1 } }]), then: tie("steps") }, { noNullPrototype: true })
      .chain((branch) =>
        fc
          .option(tie("steps"), { nil: undefined })
          .map((otherwise): Action => ({ continueOnError: false, choose: { when: [branch], ...(otherwise ? { else: otherwise } : {}) } })),
      ),
    fc.array(tie("steps"), { minLength: 1, maxLength: 3 }).map((branches): Action => ({ continueOnError: false, parallel: { branches } })),
  ),
  steps: fc.array(tie("step"), { minLength: 1, maxLength: 3 }),
}));

/** The value a dotted path leads to from `root`. */
const at = (root: unknown, path: string): unknown => path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], root);

describe("every walk, on any tree", () => {
  it("reaches each step exactly once, under a path that leads to it, in both walks", () => {
    fc.assert(
      fc.property(steps, (actions) => {
        const definition = { actions };
        const before: string[] = [];
        forEachAction(actions, "actions", (action, path) => {
          expect(at(definition, path)).toBe(action);
          before.push(path);
        });
        const after: string[] = [];
        mapActions<null>(actions, "actions", (_, path) => {
          after.push(path);
          return null;
        });
        expect(new Set(before).size).toBe(before.length);
        expect([...after].sort()).toEqual([...before].sort());
        expect(mapActions<Action>(actions, "actions", (action) => action)).toEqual(actions);
      }),
      { seed: 42 },
    );
  });
});
