// The checks list's answer parser, in a worker: a page's body (about 120 KB of JSON while the
// list scrolls) is decoded, parsed and cut to what the rows keep here, so neither its text nor
// its thousands of parsed objects are made on the page's thread, where they were most of what
// its garbage collections did while scrolling. See answer-parser.ts.
import { type AnswerKind, parseAnswerText, type ParseReply, type ParseRequest, transferablesOf } from "./answer-parser-core.ts";

const decoder = new TextDecoder();

self.onmessage = (event: MessageEvent<ParseRequest>) => {
  const { id, kind, body } = event.data;
  let reply: ParseReply;
  try {
    reply = { id, answer: parseAnswerText(kind as AnswerKind, decoder.decode(body)) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  (self as unknown as Worker).postMessage(reply, "answer" in reply ? transferablesOf(reply.answer) : []);
};
