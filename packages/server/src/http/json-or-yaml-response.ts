// A document as the API answers it: JSON, or YAML when the request's Accept prefers it, so what
// an author wrote as YAML can be read back, edited and sent again as YAML.
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { stringify } from "yaml";

const JSON_TYPE = "application/json";
const YAML_TYPES = ["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"];

export function jsonOrYamlResponse(c: Context, document: unknown, status: 200 | 201 = 200): Response {
  const type = accepts(c, { header: "Accept", supports: [JSON_TYPE, ...YAML_TYPES], default: JSON_TYPE });
  if (!YAML_TYPES.includes(type)) return c.json(document, status);
  // lineWidth 0: templates, expressions and URLs stay on one line each, as they were written.
  return c.body(stringify(document, { lineWidth: 0 }), status, { "content-type": `${type}; charset=utf-8` });
}
