// An automation as the API answers it, secrets always `<redacted>`: JSON, or YAML when the
// request's Accept prefers it, rendered from the stored definition so GET → edit → PUT works.
import type { Context } from "hono";
import { jsonOrYamlResponse } from "../../http/index.ts";
import type { AutomationView } from "../definitions/automation-store.ts";
import { redactSecrets } from "../definitions/webhook-secrets.ts";

/**
 * Renders the stored definition rather than keeping the text a YAML author sent: that text
 * would hold webhook secrets in plain text and drift from the definition (defaults, enable,
 * secrets kept on a PUT); only its comments are lost.
 */
export function automationResponse(c: Context, view: AutomationView, status: 200 | 201 = 200): Response {
  return jsonOrYamlResponse(c, redactSecrets(view), status);
}
