// The `webhook` action: the rendered request, signed when a secret is set, carrying
// `Idempotency-Key: <runId>:<stepPath>` so a receiver can drop a repeat after a crash;
// retried with backoff on network errors, timeouts, 5xx and 429.
import type { JsonValue } from "@vantage/protocol";
import { SIGNATURE_HEADER, signWebhook } from "../../crypto/index.ts";
import { renderTemplate } from "../expressions/index.ts";
import { renderJsonTemplate } from "../render-json-template.ts";
import { isCredentialHeader, REDACTED } from "../webhook-secrets.ts";
import { type ActionModule, type AttemptResult, withRetries } from "./step.ts";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
/** Headers whose values the step record never keeps. */

/** How much of a response body the step record keeps. */
const MAX_STORED_BODY = 2_048;

const masked = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? REDACTED : value]));

export const webhookAction: ActionModule<"webhook"> = async (action, context) => {
  const url = await renderTemplate(action.url, context.evaluation);
  const headers: Record<string, string> = {};
  for (const [name, value] of action.headers) headers[name] = await renderTemplate(value, context.evaluation);
  const body: JsonValue | undefined = action.method === "GET" ? undefined : action.body ? await renderJsonTemplate(action.body, context.evaluation) : (context.evaluation.trigger.payload as JsonValue);
  const bodyText = body === undefined ? "" : JSON.stringify(body);
  if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  headers[IDEMPOTENCY_HEADER] = `${context.runId}:${context.path}`;
  const origin = URL.canParse(url) ? new URL(url).origin : "the webhook URL";

  const attempt = async (): Promise<AttemptResult> => {
    // Signed per attempt: the timestamp in the signature is when this request leaves.
    const signed = action.secret === undefined ? headers : { ...headers, [SIGNATURE_HEADER]: signWebhook(action.secret, bodyText, context.now()) };
    let response: Response;
    try {
      response = await fetch(url, { method: action.method, headers: signed, body: body === undefined ? undefined : bodyText, signal: AbortSignal.any([context.signal, AbortSignal.timeout(action.timeoutMs)]) });
    } catch (error) {
      const reason = (error as Error).name === "TimeoutError" ? `no answer within ${action.timeoutMs} ms` : String((error as Error).cause ?? (error as Error).message);
      return { ok: false, retryable: true, error: `request to ${origin} failed: ${reason}` };
    }
    const text = (await response.text().catch(() => "")).slice(0, MAX_STORED_BODY);
    const output = { status: response.status, body: text };
    if (response.ok) return { ok: true, output };
    const retryable = response.status >= 500 || response.status === 429;
    return { ok: false, retryable, error: `${origin} answered ${response.status}`, output };
  };

  return {
    input: { method: action.method, url, headers: masked(headers), body: body ?? null, ...(action.secret === undefined ? {} : { secret: REDACTED }), timeoutMs: action.timeoutMs, retries: action.retries },
    execute: () => withRetries(action.retries, context, attempt),
  };
};
