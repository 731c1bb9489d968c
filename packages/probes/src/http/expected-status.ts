// `expectStatus`: exact codes (200, "204"), classes ("2xx") and ranges ("200-299"), any of
// which may match; said back to users as they wrote it ("expected status 2xx or 304").

type StatusRule = number | string;

function matchesRule(rule: StatusRule, status: number): boolean {
  if (typeof rule === "number") return status === rule;
  if (/^\dxx$/.test(rule)) return Math.floor(status / 100) === Number(rule[0]);
  const range = /^(\d{3})-(\d{3})$/.exec(rule);
  if (range) return status >= Number(range[1]) && status <= Number(range[2]);
  return status === Number(rule);
}

export function statusExpected(rules: readonly StatusRule[], status: number): boolean {
  return rules.some((rule) => matchesRule(rule, status));
}

export function describeExpectedStatus(rules: readonly StatusRule[]): string {
  return rules.map(String).join(" or ");
}
