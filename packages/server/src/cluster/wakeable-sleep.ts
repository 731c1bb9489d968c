// A sleep that a notification (or stop) can cut short: the pattern behind every
// "woken by NOTIFY, with a polling fallback" loop in the core.
export interface WakeableSleep {
  /** Resolves after `ms`, or at the next wake(), whichever comes first. */
  sleep(ms: number): Promise<void>;
  /** Ends the current sleep; a wake with nobody asleep makes the next sleep return at once. */
  wake(): void;
  /** Cancels any timer (for stop()). */
  clear(): void;
  /** Whether a wake came with nobody asleep (the next sleep returns at once). */
  hasPendingWake(): boolean;
}

export function createWakeableSleep(): WakeableSleep {
  let timer: NodeJS.Timeout | undefined;
  let resolveSleep: (() => void) | undefined;
  let pendingWake = false;

  const finish = () => {
    clearTimeout(timer);
    timer = undefined;
    const resolve = resolveSleep;
    resolveSleep = undefined;
    resolve?.();
  };

  return {
    sleep(ms) {
      if (pendingWake) {
        pendingWake = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        resolveSleep = resolve;
        timer = setTimeout(finish, ms);
      });
    },
    wake() {
      if (resolveSleep) finish();
      else pendingWake = true;
    },
    clear: finish,
    hasPendingWake: () => pendingWake,
  };
}
