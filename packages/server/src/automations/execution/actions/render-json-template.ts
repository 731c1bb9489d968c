// Renders a compiled JSON template (a webhook body) into plain JSON for one run.
import type { JsonValue } from "@vantage/protocol";
import type { JsonTemplate } from "../../definitions/compile-automation.ts";
import { type EvaluationContext, renderTemplate } from "../../expressions/index.ts";

export async function renderJsonTemplate(template: JsonTemplate, context: EvaluationContext): Promise<JsonValue> {
  if ("template" in template) return renderTemplate(template.template, context);
  if ("list" in template) return Promise.all(template.list.map((item) => renderJsonTemplate(item, context)));
  if ("object" in template) {
    const entries = await Promise.all(template.object.map(async ([key, item]) => [key, await renderJsonTemplate(item, context)] as const));
    return Object.fromEntries(entries);
  }
  return template.literal;
}
