// The assertion evaluator: what each op means on single values and on list subjects, absent
// subjects, and/or/not, a verdict for every leaf at its path, and which failures degrade and
// which fail.
import { type Assertion, type AssertionInput, assertionsSchemaFor, MAX_VERDICT_VALUE_LENGTH } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { evaluateAssertions, subjectNames } from "../../src/assertions/evaluate-assertions.ts";

const observed: Record<string, unknown> = {
  status: 503,
  responseTimeMs: 120.5,
  "header:content-length": "42",
  "header:x-flag": "true",
  body: '{"state":"ok"}',
  "json:$.state": "ok",
  "json:$.tags": ["a", "b"],
  "json:$.meta": { region: "eu" },
  "json:$.none": null,
  answers: ["10 mail.example.test", "20 backup.example.test"],
  sans: ["example.test", "www.example.test"],
};
const observe = (subject: string) => observed[subject];

/** Parses as a check would (schema defaults), so the tests use what the probes receive. */
function parse(assertions: AssertionInput[], type: "http" | "dns" | "tls" = "http"): Assertion[] {
  return assertionsSchemaFor(type).parse(assertions);
}

function passes(assertion: AssertionInput, type: "http" | "dns" | "tls" = "http"): boolean {
  return evaluateAssertions(parse([assertion], type), observe).failures.length === 0;
}

describe("each op on one value", () => {
  it.each([
    [{ subject: "status", op: "eq", value: 503 }, true],
    [{ subject: "status", op: "eq", value: "503" }, true],
    [{ subject: "status", op: "eq", value: 200 }, false],
    [{ subject: "header:content-length", op: "eq", value: 42 }, true],
    [{ subject: "header:x-flag", op: "eq", value: true }, true],
    [{ subject: "json:$.none", op: "eq", value: null }, true],
    [{ subject: "json:$.none", op: "eq", value: "null" }, false],
    [{ subject: "status", op: "ne", value: 200 }, true],
    [{ subject: "status", op: "ne", value: 503 }, false],
    [{ subject: "responseTimeMs", op: "lt", value: 200 }, true],
    [{ subject: "responseTimeMs", op: "lt", value: 120.5 }, false],
    [{ subject: "responseTimeMs", op: "lte", value: 120.5 }, true],
    [{ subject: "status", op: "gt", value: 499 }, true],
    [{ subject: "status", op: "gte", value: 504 }, false],
    [{ subject: "header:content-length", op: "gte", value: 42 }, true],
    [{ subject: "json:$.state", op: "gt", value: 1 }, false],
    [{ subject: "status", op: "in", value: [500, 502, 503] }, true],
    [{ subject: "status", op: "in", value: [200, 204] }, false],
    [{ subject: "body", op: "contains", value: '"state":"ok"' }, true],
    [{ subject: "body", op: "contains", value: "error" }, false],
    [{ subject: "json:$.tags", op: "contains", value: "b" }, true],
    [{ subject: "json:$.tags", op: "contains", value: "c" }, false],
    [{ subject: "json:$.meta", op: "contains", value: "region" }, true],
    [{ subject: "json:$.none", op: "contains", value: "null" }, false],
    [{ subject: "body", op: "matches", value: '"state":\\s*"(ok|fine)"' }, true],
    [{ subject: "body", op: "matches", value: "^error" }, false],
    [{ subject: "json:$.meta", op: "matches", value: '"region":"eu"' }, true],
    [{ subject: "json:$.none", op: "exists" }, true],
    [{ subject: "json:$.missing", op: "exists" }, false],
  ] as const)("%o passes: %s", (assertion, expected) => {
    expect(passes(assertion as AssertionInput)).toBe(expected);
  });

  it("fails every op but exists on an absent subject, ne included", () => {
    for (const assertion of [
      { subject: "json:$.missing", op: "ne", value: 1 },
      { subject: "json:$.missing", op: "eq", value: null },
      { subject: "header:x-absent", op: "contains", value: "" },
      { subject: "certDaysRemaining", op: "gt", value: -1000 },
    ] as AssertionInput[]) {
      expect(passes(assertion), JSON.stringify(assertion)).toBe(false);
    }
  });
});

describe("list subjects (DNS answers, certificate SANs)", () => {
  it("pass contains, eq and matches when some element does", () => {
    expect(passes({ subject: "answers", op: "contains", value: "backup" }, "dns")).toBe(true);
    expect(passes({ subject: "answers", op: "eq", value: "10 mail.example.test" }, "dns")).toBe(true);
    expect(passes({ subject: "answers", op: "eq", value: "mail.example.test" }, "dns")).toBe(false);
    expect(passes({ subject: "answers", op: "matches", value: "^20 " }, "dns")).toBe(true);
    expect(passes({ subject: "sans", op: "in", value: ["www.example.test", "other"] }, "tls")).toBe(true);
  });

  it("pass ne only when no element equals", () => {
    expect(passes({ subject: "answers", op: "ne", value: "30 other.test" }, "dns")).toBe(true);
    expect(passes({ subject: "answers", op: "ne", value: "10 mail.example.test" }, "dns")).toBe(false);
  });

  it("exist only when not empty", () => {
    expect(passes({ subject: "answers", op: "exists" }, "dns")).toBe(true);
    observed.answers = [];
    try {
      expect(passes({ subject: "answers", op: "exists" }, "dns")).toBe(false);
      expect(passes({ subject: "answers", op: "ne", value: "x" }, "dns")).toBe(true);
    } finally {
      observed.answers = ["10 mail.example.test", "20 backup.example.test"];
    }
  });
});

describe("the tree and its verdicts", () => {
  it("records every leaf's verdict at its path, with expected, actual and the top-level onFail", () => {
    const { verdicts } = evaluateAssertions(
      parse([
        { subject: "status", op: "eq", value: 200 },
        {
          op: "or",
          of: [
            { subject: "json:$.state", op: "eq", value: "ok" },
            { op: "not", of: { subject: "body", op: "contains", value: "error" } },
          ],
          onFail: "degrade",
        },
      ]),
      observe,
    );
    expect(verdicts).toEqual([
      { path: "assertions[0]", subject: "status", op: "eq", expected: 200, actual: 503, pass: false, onFail: "fail" },
      { path: "assertions[1].of[0]", subject: "json:$.state", op: "eq", expected: "ok", actual: "ok", pass: true, onFail: "degrade" },
      { path: "assertions[1].of[1].of", subject: "body", op: "contains", expected: "error", actual: '{"state":"ok"}', pass: false, onFail: "degrade" },
    ]);
  });

  it("evaluates and, or and not, and says why a top-level assertion failed", () => {
    const { failures } = evaluateAssertions(
      parse([
        {
          op: "and",
          of: [
            { subject: "status", op: "gte", value: 500 },
            { subject: "json:$.state", op: "eq", value: "down" },
          ],
        },
        {
          op: "or",
          of: [
            { subject: "status", op: "eq", value: 200 },
            { subject: "status", op: "eq", value: 204 },
          ],
          onFail: "degrade",
        },
        { op: "not", of: { subject: "status", op: "eq", value: 503 } },
        {
          op: "or",
          of: [
            { subject: "status", op: "eq", value: 200 },
            { subject: "status", op: "eq", value: 503 },
          ],
        },
        { op: "not", of: { subject: "status", op: "eq", value: 200 } },
      ]),
      observe,
    );
    expect(failures).toEqual([
      { path: "assertions[0]", onFail: "fail", description: 'assertions[0] failed: expected json:$.state eq "down", got "ok"' },
      {
        path: "assertions[1]",
        onFail: "degrade",
        description: "assertions[1] failed: none held: expected status eq 200, got 503; expected status eq 204, got 503",
      },
      { path: "assertions[2]", onFail: "fail", description: "assertions[2] failed: assertions[2].of should not hold, but it did" },
    ]);
  });

  it("leaves out the actual value of an absent subject and says it got nothing", () => {
    const { verdicts, failures } = evaluateAssertions(parse([{ subject: "header:etag", op: "exists" }]), observe);
    expect(verdicts[0]).not.toHaveProperty("actual");
    expect(failures[0]!.description).toBe("assertions[0] failed: expected header:etag exists, got nothing");
  });

  it("cuts long actual values to the verdict limit", () => {
    observed.body = "x".repeat(10_000);
    try {
      const { verdicts } = evaluateAssertions(parse([{ subject: "body", op: "contains", value: "y" }]), observe);
      expect(verdicts[0]!.actual).toHaveLength(MAX_VERDICT_VALUE_LENGTH);
    } finally {
      observed.body = '{"state":"ok"}';
    }
  });

  it("names the subjects a tree looks at", () => {
    expect([
      ...subjectNames(
        parse([
          {
            op: "not",
            of: {
              op: "and",
              of: [
                { subject: "json:$.a", op: "exists" },
                { subject: "header:etag", op: "exists" },
              ],
            },
          },
        ]),
      ),
    ]).toEqual(["json", "header"]);
  });
});
