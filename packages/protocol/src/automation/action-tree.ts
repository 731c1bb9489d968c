// How a definition's steps nest — a choose's branches and else, a parallel's branches — written
// once, with the path of every step (`actions.1.choose.when.0.then.0`). Everything that walks
// the steps (compiling, sealing webhook secrets, checking notify channels) goes through here,
// so a new flow kind reaches all of them at once instead of being silently skipped by one.
import { ACTION_KINDS, type Action, type ActionKind, type ActionsByKind, type Condition } from "./definition.ts";

/** The kinds whose steps hold more steps. */
export const FLOW_KINDS = ["choose", "parallel"] as const satisfies readonly ActionKind[];
export type FlowKind = (typeof FLOW_KINDS)[number];

/** The flow kinds' specs with their nested steps of type T (`Action` as authored). */
export interface FlowSpecs<T> {
  choose: { when: Array<{ conditions: Condition[]; then: T[] }>; else?: T[] };
  parallel: { branches: T[][] };
}

/** Every kind's spec, with nested steps of type T. */
export type ActionSpecs<T> = Omit<ActionsByKind, FlowKind> & FlowSpecs<T>;

/** A step whose nested steps are of type T; `ActionWith<Action>` is an `Action`. */
export type ActionWith<T> = { id?: string; continueOnError: boolean } & { [K in ActionKind]: { [P in K]: ActionSpecs<T>[K] } }[ActionKind];

type NestedSteps = { [K in FlowKind]: <T, U>(spec: FlowSpecs<T>[K], path: string, each: (steps: T[], path: string) => U[]) => FlowSpecs<U>[K] };

/** Where each flow kind holds its steps, and what their paths are called: the spec with every nested sequence passed through `each`. */
const NESTED_STEPS: NestedSteps = {
  choose: (spec, path, each) => ({
    when: spec.when.map((branch, index) => ({ ...branch, then: each(branch.then, `${path}.when.${index}.then`) })),
    ...(spec.else === undefined ? {} : { else: each(spec.else, `${path}.else`) }),
  }),
  parallel: (spec, path, each) => ({ branches: spec.branches.map((branch, index) => each(branch, `${path}.branches.${index}`)) }),
};

const specOf = (action: object, kind: ActionKind): unknown => (action as Record<string, unknown>)[kind];

/** The step's kind; undefined only for an object that is no step (stored JSON never validated). */
export function actionKind(action: object): ActionKind | undefined {
  return ACTION_KINDS.find((kind) => specOf(action, kind) !== undefined);
}

/** The step with each sequence nested in it passed through `each`; a leaf step as it is. */
function mapNested<T>(action: Action, path: string, each: (steps: Action[], path: string) => T[]): ActionWith<T> {
  const kind = actionKind(action);
  if (kind !== "choose" && kind !== "parallel") return action as ActionWith<T>;
  // The table's entry for `kind` takes `kind`'s spec; TypeScript cannot follow the correlation.
  const nest = NESTED_STEPS[kind] as <U>(spec: unknown, path: string, each: (steps: Action[], path: string) => U[]) => unknown;
  return { ...action, [kind]: nest(specOf(action, kind), `${path}.${kind}`, each) } as ActionWith<T>;
}

/**
 * Maps every step of `steps` (found at `path`, e.g. `actions`) to T, nested steps first:
 * `visit` gets each step with the steps nested in it already mapped, and the step's path.
 */
export function mapActions<T>(steps: readonly Action[], path: string, visit: (action: ActionWith<T>, path: string) => T): T[] {
  return steps.map((action, index) => {
    const at = `${path}.${index}`;
    return visit(
      mapNested(action, at, (nested, nestedPath) => mapActions(nested, nestedPath, visit)),
      at,
    );
  });
}

/** Calls `visit` on every step in definition order: a step, then the steps nested in it, then its next sibling. */
export function forEachAction(steps: readonly Action[], path: string, visit: (action: Action, path: string) => void): void {
  steps.forEach((action, index) => {
    const at = `${path}.${index}`;
    visit(action, at);
    mapNested(action, at, (nested, nestedPath) => {
      forEachAction(nested, nestedPath, visit);
      return nested;
    });
  });
}
