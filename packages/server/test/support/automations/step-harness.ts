// Runs one leaf action step (log, webhook, notify, delay, stop) as the executor prepares and
// executes it, without PostgreSQL or the job queue: attempts are counted in memory, retry pauses only recorded.
import type { JsonValue } from "@vantage/protocol";
import { pino } from "pino";
import type { EvaluationContext } from "../../../src/automations/expressions/index.ts";
import type { ActionModule, LeafKind, StepOutcome } from "../../../src/automations/execution/actions/step.ts";
import { createActionModules } from "../../../src/automations/execution/run-executor.ts";
import type { NotificationService } from "../../../src/notifications/index.ts";
import { contextOf, satelliteCompiler } from "./satellite-compiler.ts";

export interface StepHarnessOptions {
  /** What the step's templates see; a `satellite.heartbeat_lost` of sat-1 by default. */
  evaluation?: EvaluationContext;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  /** Needed only by a `notify` step. */
  notifications?: NotificationService;
  /** Abort it to act as a stopping core. */
  signal?: AbortSignal;
  runId?: string;
}

export interface StepRun {
  /** The input as the step record would keep it (secrets masked). */
  input: JsonValue;
  outcome: StepOutcome;
  attempts: number;
  /** The attempt numbers after which the step paused before retrying. */
  backoffs: number[];
  /** Every log line the step wrote, parsed. */
  logs: Array<Record<string, unknown>>;
}

// A notify step without a service fails loudly instead of reaching a database.
const noNotifications = new Proxy({} as NotificationService, {
  get: () => {
    throw new Error("runStep: a notify step needs options.notifications");
  },
});

/** Compiles `action` (as a definition writes it) in a one-step automation and runs that step once. */
export async function runStep(action: Record<string, unknown>, options: StepHarnessOptions = {}): Promise<StepRun> {
  const result = satelliteCompiler().compiler.compile({ name: "step harness", triggers: [{ event: "satellite.heartbeat_lost" }], actions: [action] });
  if (!result.ok) throw new Error(`the step does not compile: ${JSON.stringify(result.errors)}`);
  const compiled = result.compiled.actions[0]!;
  const modules = createActionModules(options.notifications ?? noNotifications);
  if (!(compiled.kind in modules)) throw new Error(`runStep runs leaf steps only, not ${compiled.kind}`);

  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const run = { attempts: 0, backoffs: [] as number[] };
  const module = modules[compiled.kind as LeafKind] as ActionModule<LeafKind>;
  const prepared = await module(compiled as Parameters<typeof module>[0], {
    runId: options.runId ?? "00000000-0000-4000-8000-000000000001",
    path: "0",
    automation: { id: "00000000-0000-4000-8000-000000000002", name: "step harness" },
    evaluation: options.evaluation ?? contextOf(),
    logger,
    now: options.now ?? (() => Date.parse("2026-01-05T10:00:00.000Z")),
    countAttempt: async () => void run.attempts++,
    backoff: async (attempt) => void run.backoffs.push(attempt),
    signal: options.signal ?? new AbortController().signal,
  });
  const outcome = await prepared.execute();
  return { input: prepared.input, outcome, attempts: run.attempts, backoffs: run.backoffs, logs };
}
