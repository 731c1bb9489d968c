// Parses the checks list's larger answers off the page's thread. While the list scrolls, a page
// of 50 checks with its bars arrives every few frames: about 120 KB of JSON, read into one string
// and parsed into some 2,000 objects, of which the list keeps a few (list-answers.ts). Made on
// the page's thread, that text and those objects were what its garbage collector mostly did
// while scrolling — the collections that were the scroll's last long tasks
// (docs/benchmarks/2026-12-03-checks-list-long-tasks.md). A worker takes the body's bytes (moved,
// not copied), and answers what the list keeps, its packed arrays moved back.
//
// Where no worker can start (a test's DOM), or the worker fails to load, the same parse runs on
// the page's thread: slower to collect, never wrong.
import { type AnswerKind, type Parsed, parseAnswerText, type ParseReply, type ParseRequest } from "./answer-parser-core.ts";

interface Pending {
  resolve(answer: Parsed[AnswerKind]): void;
  reject(error: Error): void;
}

let worker: Worker | null | undefined;
const pending = new Map<number, Pending>();
let nextId = 0;

/** The worker, started on first use (or null where none can run). */
function parser(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = typeof Worker === "undefined" ? null : new Worker(new URL("./answer-parser.worker.ts", import.meta.url), { type: "module" });
  } catch {
    worker = null;
  }
  worker?.addEventListener("message", (event: MessageEvent<ParseReply>) => {
    const reply = event.data;
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if ("error" in reply) waiting?.reject(new Error(`The core's answer could not be read: ${reply.error}`));
    else waiting?.resolve(reply.answer);
  });
  // The worker's script did not load or it died: what it held fails (the list reads it again),
  // and all that follows is parsed on this thread.
  worker?.addEventListener("error", (event) => {
    event.preventDefault();
    worker?.terminate();
    worker = null;
    for (const waiting of pending.values()) waiting.reject(new Error("The answer parser stopped; reading the list again will retry."));
    pending.clear();
  });
  return worker;
}

/** Starts the worker ahead of the first answer it will parse (its script loads meanwhile). */
export const startAnswerParser = (): void => void parser();

/** An answer's body as the list keeps it, parsed in the worker (on this thread where there is none). */
export async function parseAnswer<Kind extends AnswerKind>(kind: Kind, body: ArrayBuffer): Promise<Parsed[Kind]> {
  const target = parser();
  if (target === null) return parseAnswerText(kind, new TextDecoder().decode(body));
  const id = nextId++;
  return new Promise<Parsed[Kind]>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (answer: Parsed[AnswerKind]) => void, reject });
    const request: ParseRequest = { id, kind, body };
    target.postMessage(request, [body]);
  });
}
