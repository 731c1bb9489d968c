// The expression language of automations: parse once into an AST, evaluate per run.
export { ExpressionError, formatExpression, parseExpression } from "./parse-expression.ts";
export type { Expression, RootName } from "./parse-expression.ts";
export { evaluate, readField } from "./evaluate.ts";
export type { EvaluationContext } from "./evaluate.ts";
export { parseTemplate, renderTemplate, renderValue, templateExpressions } from "./template.ts";
export type { Template, TemplatePart } from "./template.ts";
