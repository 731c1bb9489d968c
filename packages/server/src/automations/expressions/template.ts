// Templates in action fields: text with `{{ expression }}` holes, parsed once at save time
// and rendered per run. Values render as text; objects and arrays as JSON.
import { evaluate, type EvaluationContext } from "./evaluate.ts";
import { ExpressionError, type Expression, parseExpression } from "./parse-expression.ts";

export type TemplatePart = string | { expression: Expression; column: number };

export interface Template {
  source: string;
  parts: readonly TemplatePart[];
}

/** Parses a template; throws ExpressionError with the column in the whole template. */
export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let rest = 0;
  for (;;) {
    const open = source.indexOf("{{", rest);
    if (open < 0) break;
    const close = source.indexOf("}}", open + 2);
    if (close < 0) throw new ExpressionError(open + 1, 'the "{{" here is not closed with "}}"');
    if (open > rest) parts.push(source.slice(rest, open));
    const inner = source.slice(open + 2, close);
    if (inner.trim() === "") throw new ExpressionError(open + 1, 'the "{{ }}" here is empty');
    try {
      parts.push({ expression: parseExpression(inner), column: open + 3 });
    } catch (error) {
      if (error instanceof ExpressionError) throw new ExpressionError(open + 2 + error.column, error.reason);
      throw error;
    }
    rest = close + 2;
  }
  if (rest < source.length) parts.push(source.slice(rest));
  return { source, parts };
}

export function renderValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
}

export async function renderTemplate(template: Template, context: EvaluationContext): Promise<string> {
  let text = "";
  for (const part of template.parts) text += typeof part === "string" ? part : renderValue(await evaluate(part.expression, context));
  return text;
}

/** The expressions a template holds, for validating their paths. */
export function templateExpressions(template: Template): Array<{ expression: Expression; column: number }> {
  return template.parts.filter((part): part is Exclude<TemplatePart, string> => typeof part !== "string");
}
