// The replay API under /api/v1/automations/replay: start a replay of a draft or a saved
// automation over recorded history (an asynchronous job, one running per caller), read its
// progress and result, cancel it. Editors and admins may start one (a write, see access-policy).
import type { Issue } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { principalOf } from "../../auth/index.ts";
import { invalidInput, VantageError } from "../../errors.ts";
import { describeRoute, parseYamlBody, readJsonOrYamlBody } from "../../http/index.ts";
import type { AutomationCompiler } from "../definitions/automation-compiler.ts";
import type { AutomationStore } from "../definitions/automation-store.ts";
import type { ReplayJobs } from "../replay/replay-jobs.ts";
import { exampleReplay, MAX_REPLAY_DAYS, replayJobSchema, type ReplayRequestBody, replayRequestSchema } from "./replay-api-schemas.ts";

export interface ReplayRoutesOptions {
  jobs: ReplayJobs;
  compiler: AutomationCompiler;
  store: Pick<AutomationStore, "get">;
  now: () => number;
}

const DAY_MS = 86_400_000;
const job = (description: string) => ({ description, schema: replayJobSchema });
const idParams = z.object({ id: z.string().describe("The replay's id") });

const docs = {
  start: describeRoute({
    summary: "Replay an automation over recorded history",
    description:
      "Feeds the recorded entity changes of [from, to) through the definition (a draft, or a saved automation by id) as the router would have, " +
      "on a virtual clock: the answer is a job whose result lists every would-be run (with the actions it would have taken, never executed) " +
      `and every would-be skip with its reason, and counts per day. At most ${MAX_REPLAY_DAYS} days; one running replay per caller. Nothing but the job is written.`,
    body: replayRequestSchema,
    yaml: true,
    responses: { 202: job("Started: poll GET /automations/replay/{id}") },
    errors: {
      400: "The definition is invalid (`invalid_automation`) or the range is (`invalid_replay_range`).",
      409: "You have a replay running (`replay_running`).",
    },
    examples: { draft: { summary: "Would this have paged last week?", body: exampleReplay } },
  }),
  read: describeRoute({
    summary: "A replay's progress and result",
    params: idParams,
    responses: { 200: job("The replay") },
    examples: { read: { summary: "Poll it" } },
  }),
  cancel: describeRoute({
    summary: "Cancel a running replay",
    params: idParams,
    responses: { 200: job("Cancelled; it stops at its next batch") },
    errors: { 409: "It has ended already (`replay_not_running`)." },
  }),
};

/** Who a replay belongs to: the request's actor. */
const ownerOf = (c: Parameters<typeof principalOf>[0]) => {
  const { actor } = principalOf(c);
  return `${actor.type}:${actor.id}`;
};

const rangeProblem = (from: number, to: number): string | null =>
  from >= to ? "from must be before to" : to - from > MAX_REPLAY_DAYS * DAY_MS ? `a replay covers at most ${MAX_REPLAY_DAYS} days` : null;

export function createReplayRoutes(options: ReplayRoutesOptions): Hono {
  const routes = new Hono();

  const compile = async (body: ReplayRequestBody) => {
    const definition =
      body.automationId !== undefined
        ? await options.store.get(body.automationId).then(({ id: _id, version: _version, createdAt: _created, updatedAt: _updated, ...rest }) => rest)
        : typeof body.definition === "string"
          ? parseYamlBody(body.definition)
          : body.definition;
    const result = options.compiler.compile(definition);
    if (!result.ok) {
      const issues: Issue[] = result.errors.map((issue) => ({ ...issue, path: body.automationId ? issue.path : `definition.${issue.path}` }));
      throw invalidInput(issues, { code: "invalid_automation" });
    }
    return result.compiled;
  };

  routes.post("/", docs.start, async (c) => {
    const body = await readJsonOrYamlBody(c, replayRequestSchema);
    const from = Date.parse(body.from);
    const to = body.to === undefined ? options.now() : Date.parse(body.to);
    const problem = rangeProblem(from, to);
    if (problem) throw new VantageError("invalid_input", "invalid_replay_range", `Invalid replay range: ${problem}.`);
    const compiled = await compile(body);
    return c.json(await options.jobs.start(ownerOf(c), { compiled, automationId: body.automationId ?? null, from, to }), 202);
  });

  routes.get("/:id", docs.read, async (c) => c.json(await options.jobs.get(ownerOf(c), c.req.param("id"))));

  routes.post("/:id/cancel", docs.cancel, async (c) => c.json(await options.jobs.cancel(ownerOf(c), c.req.param("id"))));

  return routes;
}
