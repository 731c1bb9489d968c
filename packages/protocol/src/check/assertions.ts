// Check assertions: one typed condition tree per check, the same in the core and the agent.
// A leaf compares one subject of a probe's observation (`status`, `json:$.data.state`,
// `header:content-type`, …) with a value; `and`, `or` and `not` combine leaves. Every node is
// told apart by its `op`, so a wrong field is reported at its own path, not as "no variant
// matched". Which subjects exist depends on the check type (see SUBJECTS_BY_TYPE).
import { z } from "zod";
import { compileUserRegex, MAX_USER_REGEX_LENGTH } from "../user-regex.ts";

export const CHECK_TYPES = ["http", "tcp", "dns", "tls"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

/**
 * Subjects a check type observes. `header:<name>` and `json:<path>` take an argument after
 * the colon; the others are plain names. `certDaysRemaining` is whole days until the
 * certificate expires (negative once it has).
 */
export const SUBJECTS_BY_TYPE = {
  http: ["status", "responseTimeMs", "header:", "body", "json:", "certDaysRemaining"],
  tcp: ["responseTimeMs", "response", "certDaysRemaining"],
  dns: ["rcode", "answers", "responseTimeMs"],
  tls: ["certDaysRemaining", "responseTimeMs", "issuer", "sans"],
} as const satisfies Record<CheckType, readonly string[]>;

/** The longest JSON path or header name a subject may carry. */
export const MAX_SUBJECT_ARGUMENT_LENGTH = 200;

/**
 * Our own JSON path subset — no filters, no scripts, nothing evaluated: `$`, then `.name`,
 * `[index]` or `["any key"]` steps, e.g. `$.data.items[0]["content-type"]`.
 */
export const JSON_PATH_PATTERN = /^\$(?:\.[A-Za-z_$][\w$-]*|\[\d{1,6}\]|\["(?:[^"\\]|\\.)*"\])*$/;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const SCALAR_OPS = ["eq", "ne"] as const;
export const NUMBER_OPS = ["lt", "lte", "gt", "gte"] as const;
export const LEAF_OPS = [...SCALAR_OPS, ...NUMBER_OPS, "in", "contains", "matches", "exists"] as const;
export type LeafOp = (typeof LEAF_OPS)[number];
export const ASSERTION_ON_FAIL = ["fail", "degrade"] as const;
export type AssertionOnFail = (typeof ASSERTION_ON_FAIL)[number];

export type Scalar = string | number | boolean | null;

export type AssertionLeaf =
  | { op: (typeof SCALAR_OPS)[number]; subject: string; value: Scalar }
  | { op: (typeof NUMBER_OPS)[number]; subject: string; value: number }
  | { op: "in"; subject: string; value: Scalar[] }
  | { op: "contains"; subject: string; value: string }
  | { op: "matches"; subject: string; value: string }
  | { op: "exists"; subject: string };
export type AssertionNode = AssertionLeaf | { op: "and" | "or"; of: AssertionNode[] } | { op: "not"; of: AssertionNode };
/** A top-level assertion: a node and what its failure means for the result. */
export type Assertion = AssertionNode & { onFail: AssertionOnFail };
export type AssertionInput = AssertionNode & { onFail?: AssertionOnFail };

/** Assertions one check may carry at the top level, and leaves in all. */
export const MAX_ASSERTIONS = 50;
export const MAX_ASSERTION_LEAVES = 200;
/** How deep `and`/`or`/`not` may nest. */
export const MAX_ASSERTION_DEPTH = 8;

const scalarSchema = z.union([z.string().max(1_000), z.number(), z.boolean(), z.null()]);

/** The subject pattern of one check type, so the JSON Schema refuses a subject the type does not have. */
function subjectPattern(type: CheckType): string {
  const alternatives = SUBJECTS_BY_TYPE[type].map((subject) => {
    if (subject === "header:") return `header:${HEADER_NAME_PATTERN.source.slice(1, -1)}`;
    if (subject === "json:") return `json:${JSON_PATH_PATTERN.source.slice(1, -1)}`;
    return subject;
  });
  return `^(?:${alternatives.join("|")})$`;
}

function subjectSchema(type: CheckType) {
  const names = SUBJECTS_BY_TYPE[type].map((subject) => (subject.endsWith(":") ? `${subject}<…>` : subject));
  return z
    .string()
    .max(MAX_SUBJECT_ARGUMENT_LENGTH + 10)
    .regex(new RegExp(subjectPattern(type)), `is not a subject a ${type} check has; use one of: ${names.join(", ")}`);
}

const patternSchema = z
  .string()
  .max(MAX_USER_REGEX_LENGTH, `a pattern is at most ${MAX_USER_REGEX_LENGTH} characters`)
  .superRefine((pattern, ctx) => {
    const compiled = compileUserRegex(pattern);
    if (!compiled.ok) ctx.addIssue({ code: "custom", message: `the pattern ${compiled.message}` });
  });

/** The leaves of one check type, one object per op family. */
function leafSchemas(type: CheckType) {
  const subject = subjectSchema(type);
  return [
    z.strictObject({ op: z.enum(SCALAR_OPS), subject, value: scalarSchema }),
    z.strictObject({ op: z.enum(NUMBER_OPS), subject, value: z.number() }),
    z.strictObject({ op: z.literal("in"), subject, value: z.array(scalarSchema).min(1).max(100) }),
    z.strictObject({ op: z.literal("contains"), subject, value: z.string().max(1_000) }),
    z.strictObject({ op: z.literal("matches"), subject, value: patternSchema }),
    z.strictObject({ op: z.literal("exists"), subject }),
  ] as const;
}

const OP_MESSAGE = `op must be one of: ${["and", "or", "not", ...LEAF_OPS].join(", ")}`;

/** The assertion node schema of one check type (recursive through `of`). */
function nodeSchemaFor(type: CheckType): z.ZodType<AssertionNode> {
  const node: z.ZodType<AssertionNode> = z.lazy(() =>
    z.discriminatedUnion(
      "op",
      [
        ...leafSchemas(type),
        z.strictObject({ op: z.enum(["and", "or"]), of: z.array(node).min(1).max(MAX_ASSERTIONS) }),
        z.strictObject({ op: z.literal("not"), of: node }),
      ],
      {
        error: OP_MESSAGE,
      },
    ),
  ) as z.ZodType<AssertionNode>;
  return node;
}

const onFailSchema = z.enum(ASSERTION_ON_FAIL).default("fail");

/** A top-level assertion of one check type: any node plus `onFail` (default `fail`). */
function assertionSchemaFor(type: CheckType): z.ZodType<Assertion, AssertionInput> {
  const node = nodeSchemaFor(type);
  const [scalar, number, inList, contains, matches, exists] = leafSchemas(type).map((leaf) => leaf.extend({ onFail: onFailSchema }));
  return z.discriminatedUnion(
    "op",
    [
      scalar!,
      number!,
      inList!,
      contains!,
      matches!,
      exists!,
      z.strictObject({ op: z.enum(["and", "or"]), of: z.array(node).min(1).max(MAX_ASSERTIONS), onFail: onFailSchema }),
      z.strictObject({ op: z.literal("not"), of: node, onFail: onFailSchema }),
    ],
    { error: OP_MESSAGE },
  ) as unknown as z.ZodType<Assertion, AssertionInput>;
}

/** Nesting depth and leaf count of a tree, to bound what one check costs to evaluate. */
export function assertionTreeSize(nodes: readonly AssertionNode[]): { depth: number; leaves: number } {
  let depth = 0;
  let leaves = 0;
  const visit = (node: AssertionNode, level: number) => {
    depth = Math.max(depth, level);
    if (node.op === "and" || node.op === "or") for (const child of node.of) visit(child, level + 1);
    else if (node.op === "not") visit(node.of, level + 1);
    else leaves += 1;
  };
  for (const node of nodes) visit(node, 1);
  return { depth, leaves };
}

/** The `assertions` list of one check type, bounded in size and depth. */
export function assertionsSchemaFor(type: CheckType) {
  return z
    .array(assertionSchemaFor(type))
    .max(MAX_ASSERTIONS)
    .default([])
    .superRefine((assertions, ctx) => {
      const { depth, leaves } = assertionTreeSize(assertions);
      if (depth > MAX_ASSERTION_DEPTH)
        ctx.addIssue({ code: "custom", message: `assertions nest at most ${MAX_ASSERTION_DEPTH} levels deep (these nest ${depth})` });
      if (leaves > MAX_ASSERTION_LEAVES)
        ctx.addIssue({ code: "custom", message: `a check has at most ${MAX_ASSERTION_LEAVES} assertion leaves (this one has ${leaves})` });
    });
}

/** Splits a subject into its name and argument: `json:$.a` → `{ name: "json", argument: "$.a" }`. */
export function parseSubject(subject: string): { name: string; argument: string | undefined } {
  const colon = subject.indexOf(":");
  return colon === -1 ? { name: subject, argument: undefined } : { name: subject.slice(0, colon), argument: subject.slice(colon + 1) };
}
