// What the answer parser's worker and its fallback on the page's thread share (answer-parser.ts).
import type { CheckPage, CheckSummaries } from "../../../api/client.ts";
import { type PackedSummaries, packSummaries, type SlimPage, slimPage } from "./list-answers.ts";

/** What each kind of answer becomes. */
export interface Parsed {
  /** GET /checks?summaries=… */
  page: SlimPage;
  /** GET /checks/summaries */
  summaries: PackedSummaries;
}
export type AnswerKind = keyof Parsed;

export interface ParseRequest {
  id: number;
  kind: AnswerKind;
  /** The answer's body, UTF-8: moved to the worker, not copied. */
  body: ArrayBuffer;
}
export type ParseReply = { id: number; answer: Parsed[AnswerKind] } | { id: number; error: string };

export function parseAnswerText<Kind extends AnswerKind>(kind: Kind, text: string): Parsed[Kind] {
  const value: unknown = JSON.parse(text);
  return (kind === "page" ? slimPage(value as CheckPage) : packSummaries(value as CheckSummaries)) as Parsed[Kind];
}

/** The packed arrays of an answer: moved back to the page, not copied. */
export function transferablesOf(answer: Parsed[AnswerKind]): ArrayBuffer[] {
  const packed = "checkIds" in answer ? answer : answer.summaries;
  return packed ? [packed.counts.buffer as ArrayBuffer, packed.p95Ms.buffer as ArrayBuffer] : [];
}
