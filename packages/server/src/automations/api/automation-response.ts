// An automation as the API answers it, secrets always `<redacted>`: JSON, or YAML when the
// request's Accept prefers it, rendered from the stored definition so GET → edit → PUT works.
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { stringify } from "yaml";
import type { AutomationView } from "../definitions/automation-store.ts";
import { redactSecrets } from "../definitions/webhook-secrets.ts";

const JSON_TYPE = "application/json";
const YAML_TYPES = ["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"];

/**
 * Renders the stored definition rather than keeping the text a YAML author sent: that text
 * would hold webhook secrets in plain text and drift from the definition (defaults, enable,
 * secrets kept on a PUT); only its comments are lost.
 */
export function automationResponse(c: Context, view: AutomationView, status: 200 | 201 = 200): Response {
  const shown = redactSecrets(view);
  const type = accepts(c, { header: "Accept", supports: [JSON_TYPE, ...YAML_TYPES], default: JSON_TYPE });
  if (!YAML_TYPES.includes(type)) return c.json(shown, status);
  // lineWidth 0: templates and expressions stay on one line each, as they were written.
  return c.body(stringify(shown, { lineWidth: 0 }), status, { "content-type": `${type}; charset=utf-8` });
}
