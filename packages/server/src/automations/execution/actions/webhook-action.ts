// The `webhook` action: the rendered request through the core's outbound client (a redirect is
// a failure naming where it pointed), signed when a secret is set, carrying
// `Idempotency-Key: <runId>:<stepPath>` so a receiver can drop a repeat after a crash or a retry;
// retried with backoff on what the outbound retry table calls transient.
import type { JsonValue } from "@vantage/protocol";
import { REDACTED, SIGNATURE_HEADER, signWebhook } from "../../../crypto/index.ts";
import { IDEMPOTENCY_HEADER, isCredentialHeader, outbound } from "../../../outbound/index.ts";
import { renderTemplate } from "../../expressions/index.ts";
import { renderJsonTemplate } from "./render-json-template.ts";
import { type ActionModule, type AttemptResult, type StepContext, withRetries } from "./step.ts";

/** How much of a response body the step record keeps. */
const MAX_STORED_BODY = 2_048;

/** The key of a step's outbound requests: the same on every attempt and after a resume elsewhere, unique per step. */
export function stepIdempotencyKey(context: Pick<StepContext, "runId" | "path">): string {
  return `${context.runId}:${context.path}`;
}

const masked = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? REDACTED : value]));

/** `headers` with `name` set to `value`, replacing any spelling of it the user gave. */
function withHeader(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  const others = Object.entries(headers).filter(([key]) => key.toLowerCase() !== name.toLowerCase());
  return { ...Object.fromEntries(others), [name]: value };
}

export const webhookAction: ActionModule<"webhook"> = async (action, context) => {
  const url = await renderTemplate(action.url, context.evaluation);
  let headers: Record<string, string> = {};
  for (const [name, value] of action.headers) headers[name] = await renderTemplate(value, context.evaluation);
  const body: JsonValue | undefined =
    action.method === "GET"
      ? undefined
      : action.body
        ? await renderJsonTemplate(action.body, context.evaluation)
        : (context.evaluation.trigger.payload as JsonValue);
  const bodyText = body === undefined ? undefined : JSON.stringify(body);
  if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  headers = withHeader(headers, IDEMPOTENCY_HEADER, stepIdempotencyKey(context));

  const attempt = async (): Promise<AttemptResult> => {
    // Signed per attempt: the timestamp in the signature is when this request leaves.
    const signed = action.secret === undefined ? headers : { ...headers, [SIGNATURE_HEADER]: signWebhook(action.secret, bodyText ?? "", context.now()) };
    const result = await outbound.request({
      url,
      method: action.method,
      headers: signed,
      body: bodyText,
      timeoutMs: action.timeoutMs,
      maxBodyBytes: MAX_STORED_BODY,
      signal: context.signal,
      // A mass outage sends thousands to one receiver: one connection per request cost the core ~7 % of its CPU.
      reuseConnection: true,
    });
    if (result.ok) return { ok: true, output: { status: result.status, body: result.body } };
    const output = result.status === undefined ? undefined : { status: result.status, body: result.body ?? "" };
    return { ok: false, retryable: result.retryable, error: result.message, ...(output ? { output } : {}) };
  };

  return {
    input: {
      method: action.method,
      url,
      headers: masked(headers),
      body: body ?? null,
      ...(action.secret === undefined ? {} : { secret: REDACTED }),
      timeoutMs: action.timeoutMs,
      retries: action.retries,
    },
    // withRetries counts each attempt first.
    countsAttemptFirst: true,
    // Every attempt carries the step's Idempotency-Key: one sent before its start is answered is one a resume may repeat.
    overlapsStart: true,
    execute: () => withRetries(action.retries, context, attempt),
  };
};
