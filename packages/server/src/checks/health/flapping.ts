// Flap detection, Nagios-style: the share of evaluations that changed the check's status over
// the last FLAP_WINDOW evaluations, with hysteresis — flapping starts at 30 % and stops at
// 15 %, so a check near one threshold does not flap about flapping.

export const FLAP_WINDOW = 20;
export const FLAP_START_SHARE = 0.3;
export const FLAP_STOP_SHARE = 0.15;

export interface FlapState {
  /** The last evaluations, newest last: "1" changed the status, "0" did not. */
  history: string;
  flapping: boolean;
}

/**
 * The share of changes over a full window: the denominator is always FLAP_WINDOW, so the first
 * few changes of a new check (its first verdicts) cannot start flapping on their own.
 */
export function changeShare(history: string): number {
  let changes = 0;
  for (let i = 0; i < history.length; i++) if (history.charCodeAt(i) === 49 /* "1" */) changes++;
  return changes / FLAP_WINDOW;
}

/** The flap state after one more evaluation, which changed the status or not. */
export function nextFlapState(previous: FlapState, changed: boolean): FlapState {
  const history = `${previous.history}${changed ? "1" : "0"}`.slice(-FLAP_WINDOW);
  const share = changeShare(history);
  const flapping = previous.flapping ? share > FLAP_STOP_SHARE : share >= FLAP_START_SHARE;
  return { history, flapping };
}
