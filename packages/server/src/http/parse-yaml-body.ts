// Reads a YAML request body as plain data. The yaml package composes documents recursively
// and has no depth limit (2,000 nested `[` aborted Node), so its own iterative parser's
// syntax tree is measured first and nothing deeper than MAX_INPUT_DEPTH is ever composed.
import { type CST, LineCounter, Parser, parseDocument } from "yaml";
import { invalidInput } from "../errors.ts";
import { LIMIT_BROKEN, MAX_INPUT_DEPTH, MAX_INPUT_NODES } from "./check-input.ts";

/** How many aliases toJS may resolve: a small body must not expand into a large one. */
const MAX_ALIAS_COUNT = 100;

/** The body's data (unchecked beyond its depth and size); a syntax error names its line and column. */
export function parseYamlBody(text: string): unknown {
  const lines = new LineCounter();
  const tooBig = measure(new Parser(lines.addNewLine).parse(text));
  if (tooBig) {
    const at = lines.linePos(tooBig.offset);
    throw invalidYaml(`the body ${tooBig.message} at line ${at.line}, column ${at.col}`);
  }
  // Plain data only: no custom tags, and a bound on aliases.
  const document = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  const error = document.errors[0];
  if (error) {
    const at = lines.linePos(error.pos[0]);
    throw invalidYaml(`the body is not valid YAML at line ${at.line}, column ${at.col}: ${error.message}`, error);
  }
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (cause) {
    throw invalidYaml(`the body's YAML cannot be read: ${(cause as Error).message}`, cause);
  }
}

interface Pending {
  token: CST.Token;
  depth: number;
}

/** Walks the syntax tree without recursion: where it first nests too deep or holds too many values. */
function measure(tokens: Iterable<CST.Token>): { offset: number; message: string } | undefined {
  const pending: Pending[] = [...tokens].reverse().map((token) => ({ token, depth: 0 }));
  let values = 0;
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!;
    if (token.type === "document") {
      if (token.value) pending.push({ token: token.value, depth });
      continue;
    }
    if (++values > MAX_INPUT_NODES) return { offset: token.offset, message: LIMIT_BROKEN.values };
    if (!isCollection(token)) continue;
    if (depth === MAX_INPUT_DEPTH) return { offset: token.offset, message: LIMIT_BROKEN.depth };
    // Last item first, value before key: they pop in document order.
    for (const item of [...token.items].reverse()) {
      if (item.value) pending.push({ token: item.value, depth: depth + 1 });
      if ("key" in item && item.key) pending.push({ token: item.key, depth: depth + 1 });
    }
  }
  return undefined;
}

function isCollection(token: CST.Token): token is CST.BlockMap | CST.BlockSequence | CST.FlowCollection {
  return token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection";
}

const invalidYaml = (message: string, cause?: unknown) => invalidInput([{ path: "", message }], { cause });
