// A value that must never reach a log line: every way of printing it prints `<redacted>`;
// only reveal() gives the value, at the one place that sends it.
import { inspect } from "node:util";

export const REDACTED = "<redacted>";

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
