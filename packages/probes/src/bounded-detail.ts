// Keeps a result's detail small enough to travel (MAX_DETAIL_BYTES as JSON, what a satellite's
// result frame allows): a check with many assertions, long DNS answers or a long excerpt gives
// up, in order, the verdicts that passed, the excerpt, answers beyond the first few, and then
// failing verdicts from the end — never the status, reason, error or timings.
import { type CheckResultDetail, MAX_DETAIL_BYTES, MAX_EXCERPT_BYTES } from "@vantage/protocol";

const encoder = new TextEncoder();
const sizeOf = (detail: CheckResultDetail) => Buffer.byteLength(JSON.stringify(detail));

/** The start of `text`, at most MAX_EXCERPT_BYTES of UTF-8, never cutting a character in half. */
export function excerptOf(text: string): string {
  if (text.length * 3 <= MAX_EXCERPT_BYTES) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= MAX_EXCERPT_BYTES) return text;
  // A decoder drops a character the cut splits (fatal: false would add U+FFFD, so trim it).
  return new TextDecoder().decode(bytes.subarray(0, MAX_EXCERPT_BYTES)).replace(/\uFFFD$/, "");
}

type Shrink = (detail: CheckResultDetail) => CheckResultDetail | undefined;

const SHRINKS: Shrink[] = [
  (detail) =>
    detail.assertions?.some((verdict) => verdict.pass) ? { ...detail, assertions: detail.assertions.filter((verdict) => !verdict.pass) } : undefined,
  (detail) => {
    if (detail.excerpt === undefined) return undefined;
    const { excerpt: _dropped, ...rest } = detail;
    return rest;
  },
  (detail) => (detail.dns && detail.dns.answers.length > 10 ? { ...detail, dns: { ...detail.dns, answers: detail.dns.answers.slice(0, 10) } } : undefined),
  (detail) => (detail.tcp?.response !== undefined ? { ...detail, tcp: {} } : undefined),
  (detail) =>
    detail.assertions && detail.assertions.length > 0
      ? { ...detail, assertions: detail.assertions.slice(0, Math.floor(detail.assertions.length / 2)) }
      : undefined,
  (detail) => (detail.cert?.sans && detail.cert.sans.length > 5 ? { ...detail, cert: { ...detail.cert, sans: detail.cert.sans.slice(0, 5) } } : undefined),
];

/**
 * Whether a shrink (SHRINKS) could take anything from `detail`: one without those parts is
 * kept whole whatever its size, so it need not be measured (most runs: a status and timings).
 */
const shrinkable = (detail: CheckResultDetail) =>
  (detail.assertions?.length ?? 0) > 0 ||
  detail.excerpt !== undefined ||
  (detail.dns?.answers.length ?? 0) > 10 ||
  detail.tcp?.response !== undefined ||
  (detail.cert?.sans?.length ?? 0) > 5;

/** `detail` if it fits in MAX_DETAIL_BYTES as JSON; else the most of it that does. */
export function boundedDetail(detail: CheckResultDetail): CheckResultDetail {
  if (!shrinkable(detail)) return detail;
  // Every run's detail passes here: measure it once when it fits, as almost all do.
  let size = sizeOf(detail);
  if (size <= MAX_DETAIL_BYTES) return detail;
  let bounded = detail;
  for (const shrink of SHRINKS) {
    // A shrink may take several turns (halving the verdicts); each turn shrinks or gives up.
    let next: CheckResultDetail | undefined;
    while (size > MAX_DETAIL_BYTES && (next = shrink(bounded)) !== undefined) {
      bounded = next;
      size = sizeOf(bounded);
    }
  }
  return bounded;
}
