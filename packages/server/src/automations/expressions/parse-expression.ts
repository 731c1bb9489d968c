// The automation expression language: literals, `trigger.…`, `vars.…` and
// `entity('kind', <expr>).…` paths, parsed once into a small AST. No eval, no functions
// other than entity(), no operators: a path reads own data fields and nothing else.
import type { JsonValue } from "@vantage/protocol";

export type Expression =
  | { type: "literal"; value: JsonValue }
  | { type: "root"; name: RootName }
  | { type: "member"; object: Expression; key: string | number; column: number }
  | { type: "entity"; kind: string; kindColumn: number; id: Expression; column: number };

export type RootName = "trigger" | "vars";
const ROOTS: ReadonlySet<string> = new Set<RootName>(["trigger", "vars"]);
const KEYWORDS: Readonly<Record<string, JsonValue>> = { true: true, false: false, null: null };
/** Keys that lead off plain data into the prototype chain; refused outright. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** A parse error with the 1-based column it points at. */
export class ExpressionError extends Error {
  constructor(
    readonly column: number,
    readonly reason: string,
  ) {
    super(`at column ${column}: ${reason}`);
    this.name = "ExpressionError";
  }
}

type Token =
  | { kind: "ident"; text: string; column: number }
  | { kind: "string"; value: string; column: number }
  | { kind: "number"; value: number; column: number }
  | { kind: "punct"; text: "." | "," | "(" | ")" | "[" | "]"; column: number }
  | { kind: "end"; column: number };

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", "\\": "\\", "'": "'", '"': '"' };
const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$-]/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/;

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = "";
  for (let i = start + 1; i < source.length; i++) {
    const char = source[i]!;
    if (char === quote) return { value, end: i + 1 };
    if (char === "\\") {
      const next = source[i + 1];
      if (next === undefined) break;
      // Unknown escapes keep their backslash, so a regex such as '^\d+$' reads as written.
      value += ESCAPES[next] ?? `\\${next}`;
      i++;
    } else {
      value += char;
    }
  }
  throw new ExpressionError(start + 1, `the string starting here is not closed with ${quote}`);
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    const column = i + 1;
    if (/\s/.test(char)) {
      i++;
    } else if (".,()[]".includes(char)) {
      tokens.push({ kind: "punct", text: char as "." | "," | "(" | ")" | "[" | "]", column });
      i++;
    } else if (char === "'" || char === '"') {
      const { value, end } = readString(source, i);
      tokens.push({ kind: "string", value, column });
      i = end;
    } else if (/[-\d]/.test(char)) {
      const match = NUMBER.exec(source.slice(i));
      if (!match) throw new ExpressionError(column, `unexpected "${char}"`);
      tokens.push({ kind: "number", value: Number(match[0]), column });
      i += match[0].length;
    } else if (IDENT_START.test(char)) {
      let end = i + 1;
      while (end < source.length && IDENT_PART.test(source[end]!)) end++;
      tokens.push({ kind: "ident", text: source.slice(i, end), column });
      i = end;
    } else {
      throw new ExpressionError(column, `unexpected "${char}"; expressions are paths such as trigger.payload.name, or literals`);
    }
  }
  tokens.push({ kind: "end", column: source.length + 1 });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    return this.tokens[this.index++]!;
  }

  private expect(text: string): Token {
    const token = this.next();
    if (token.kind !== "punct" || token.text !== text) throw new ExpressionError(token.column, `expected "${text}" but found ${describe(token)}`);
    return token;
  }

  parse(): Expression {
    const expression = this.parsePath();
    const rest = this.peek();
    if (rest.kind !== "end") throw new ExpressionError(rest.column, `unexpected ${describe(rest)} after the expression`);
    return expression;
  }

  private parsePath(): Expression {
    let expression = this.parsePrimary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== "punct" || (token.text !== "." && token.text !== "[")) return expression;
      if (expression.type === "literal") throw new ExpressionError(token.column, "a literal has no fields");
      this.next();
      const key = token.text === "." ? this.memberName() : this.indexKey();
      expression = { type: "member", object: expression, key: key.key, column: key.column };
    }
  }

  private memberName(): { key: string; column: number } {
    const token = this.next();
    if (token.kind !== "ident") throw new ExpressionError(token.column, `expected a field name after "." but found ${describe(token)}`);
    return { key: checkedKey(token.text, token.column), column: token.column };
  }

  private indexKey(): { key: string | number; column: number } {
    const token = this.next();
    let key: string | number;
    if (token.kind === "number" && Number.isInteger(token.value) && token.value >= 0) key = token.value;
    else if (token.kind === "string") key = checkedKey(token.value, token.column);
    else throw new ExpressionError(token.column, `expected an index or a quoted field name inside [ ] but found ${describe(token)}`);
    this.expect("]");
    return { key, column: token.column };
  }

  private parsePrimary(): Expression {
    const token = this.next();
    switch (token.kind) {
      case "string":
        return { type: "literal", value: token.value };
      case "number":
        return { type: "literal", value: token.value };
      case "ident":
        if (token.text in KEYWORDS) return { type: "literal", value: KEYWORDS[token.text]! };
        if (ROOTS.has(token.text)) return { type: "root", name: token.text as RootName };
        if (token.text === "entity") return this.parseEntity(token.column);
        throw new ExpressionError(token.column, `unknown name "${token.text}"; an expression starts with trigger, vars, entity(...) or a literal`);
      default:
        throw new ExpressionError(token.column, `expected a path or a literal but found ${describe(token)}`);
    }
  }

  private parseEntity(column: number): Expression {
    this.expect("(");
    const kind = this.next();
    if (kind.kind !== "string")
      throw new ExpressionError(
        kind.column,
        `entity(...) takes the entity kind as a quoted string first, e.g. entity('satellite-connection', trigger.payload.satelliteId)`,
      );
    this.expect(",");
    const id = this.parsePath();
    this.expect(")");
    return { type: "entity", kind: kind.value, kindColumn: kind.column, id, column };
  }
}

function checkedKey(key: string, column: number): string {
  if (FORBIDDEN_KEYS.has(key)) throw new ExpressionError(column, `"${key}" is not a data field and cannot be read`);
  return key;
}

function describe(token: Token): string {
  switch (token.kind) {
    case "end":
      return "the end of the expression";
    case "ident":
      return `"${token.text}"`;
    case "punct":
      return `"${token.text}"`;
    case "string":
      return "a string";
    case "number":
      return "a number";
  }
}

/** Parses one expression; throws ExpressionError pointing at the column of the problem. */
export function parseExpression(source: string): Expression {
  return new Parser(tokenize(source)).parse();
}

/** The expression written back as source, for messages and traces. */
export function formatExpression(expression: Expression): string {
  switch (expression.type) {
    case "literal":
      return JSON.stringify(expression.value);
    case "root":
      return expression.name;
    case "entity":
      return `entity('${expression.kind}', ${formatExpression(expression.id)})`;
    case "member":
      return typeof expression.key === "number"
        ? `${formatExpression(expression.object)}[${expression.key}]`
        : `${formatExpression(expression.object)}.${expression.key}`;
  }
}
