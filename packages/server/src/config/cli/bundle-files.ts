// Reads a bundle from YAML or JSON files and directories (multi-document YAML; a document is one
// resource or a list of them), keeping each resource's place in its file so every problem — the
// CLI's own or the core's, at `resources.<i>.…` — reads `file:line path: message`.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { type BundleResource, bundleResourceSchema, type Issue, validateInput } from "@vantage/protocol";
import { isCollection, isNode, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";

const BUNDLE_FILE = /\.(ya?ml|json)$/i;

/** Where a resource came from. */
interface Source {
  file: string;
  node: Node;
  lines: LineCounter;
}

/** A problem at a place in a file. */
export interface LocatedIssue {
  file: string;
  line: number;
  path: string;
  message: string;
}

export const formatIssue = (issue: LocatedIssue): string => `${issue.file}:${issue.line} ${issue.path === "" ? "" : `${issue.path}: `}${issue.message}`;

export interface LoadedBundle {
  resources: BundleResource[];
  /** Every problem found, each at its file and line; the bundle is usable only when empty. */
  issues: LocatedIssue[];
  /** The place of `path` (dotted, inside resource `index`), for problems the core reports. */
  locate(index: number, path: string, message: string): LocatedIssue;
}

async function bundleFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (!(await stat(path)).isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = (await readdir(path, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile() && BUNDLE_FILE.test(entry.name));
    files.push(...entries.map((entry) => join(entry.parentPath, entry.name)).sort());
  }
  return files;
}

/** The deepest node along `path` that exists (a missing field is reported where its parent is). */
function nodeAt(root: Node, path: string): Node {
  let node = root;
  for (const key of path === "" ? [] : path.split(".")) {
    if (!isCollection(node)) break;
    const child = node.get(isSeq(node) ? Number(key) : key, true) as Node | undefined;
    if (child === undefined || child === null || typeof child !== "object") break;
    node = child;
  }
  return node;
}

function lineOf(source: Source, path: string): number {
  const start = nodeAt(source.node, path).range?.[0] ?? 0;
  return source.lines.linePos(start).line;
}

/** Loads and checks the envelope of every resource (`kind`, `name`, `spec`); specs are the core's to validate. */
export async function loadBundle(paths: readonly string[], cwd = process.cwd()): Promise<LoadedBundle> {
  const resources: BundleResource[] = [];
  const sources: Source[] = [];
  const issues: LocatedIssue[] = [];
  for (const path of await bundleFiles(paths)) {
    // As the user would open it: relative below the working directory, else as given.
    const below = relative(cwd, path);
    const file = below === "" || below.startsWith("..") ? path : below;
    const lines = new LineCounter();
    const documents = parseAllDocuments(await readFile(path, "utf8"), { lineCounter: lines, prettyErrors: false });
    for (const document of Array.isArray(documents) ? documents : []) {
      for (const error of document.errors) issues.push({ file, line: lines.linePos(error.pos[0]).line, path: "", message: error.message });
      if (document.errors.length > 0 || document.contents === null) continue;
      const contents = document.contents as Node;
      const nodes = isSeq(contents) ? (contents.items as Node[]) : [contents];
      for (const node of nodes) {
        const source = { file, node, lines };
        const value: unknown = isNode(node) ? node.toJS(document) : node;
        const parsed = validateInput(bundleResourceSchema, value, { root: "the resource" });
        if (!parsed.ok) {
          issues.push(...parsed.issues.map((issue: Issue) => ({ file, line: lineOf(source, issue.path), path: issue.path, message: issue.message })));
          continue;
        }
        resources.push(parsed.value);
        sources.push(source);
      }
    }
  }
  return {
    resources,
    issues,
    locate: (index, path, message) => {
      const source = sources[index];
      return source ? { file: source.file, line: lineOf(source, path), path, message } : { file: "(bundle)", line: 0, path, message };
    },
  };
}

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces every `${env:NAME}` in the resources' string values with the variable's value (a
 * missing variable is an issue at its place). The result goes to the core only: nothing prints it.
 */
export function resolveEnvReferences(bundle: LoadedBundle, env: NodeJS.ProcessEnv): { resources: BundleResource[]; issues: LocatedIssue[] } {
  const issues: LocatedIssue[] = [];
  const resolve = (value: unknown, index: number, path: string): unknown => {
    if (typeof value === "string") {
      return value.replace(ENV_REFERENCE, (reference, name: string) => {
        const found = env[name];
        if (found === undefined) issues.push(bundle.locate(index, path, `environment variable ${name} is not set (referenced as ${reference})`));
        return found ?? "";
      });
    }
    if (Array.isArray(value)) return value.map((item, at) => resolve(item, index, `${path}.${at}`));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, index, `${path}.${key}`)]));
    }
    return value;
  };
  const resources = bundle.resources.map((resource, index) => ({ ...resource, spec: resolve(resource.spec, index, "spec") as BundleResource["spec"] }));
  return { resources, issues };
}
