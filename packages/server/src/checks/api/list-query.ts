// The query string of `GET /api/v1/checks`: `limit`, an opaque `cursor` from the previous
// page's `nextCursor`, and the filters `type`, `label=key=value` (repeatable: all must hold),
// `enabled`, `namePrefix`, `status` (health: healthy, degraded, unhealthy, unknown), `location`
// (checks with a verdict from the core or a satellite); `summaries=24h|90d` adds the page's
// summaries (what /checks/summaries answers for its ids), so a list gets both in one request.
import { CHECK_TYPES, HEARTBEAT_CHECK_TYPE, unsafeTextReason } from "@vantage/protocol";
import { z } from "zod";
import { checkHealthStatusSchema } from "../health/check-health-entity.ts";
import { type CheckListQuery, DEFAULT_CHECK_PAGE, MAX_CHECK_PAGE } from "../definitions/check-list.ts";
import { BAR_RANGES, type BarRange } from "./summary-routes.ts";

/**
 * A page's cursor is the last name it held, encoded so clients treat it as a token: what it
 * holds may change (another order, more keys) without breaking them.
 */
export const encodeCursor = (lastName: string): string => Buffer.from(lastName, "utf8").toString("base64url");

export const cursorSchema = z.string().transform((cursor, ctx) => {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  // Decoding accepts any text; only a cursor this list gave encodes back to itself.
  if (cursor === "" || encodeCursor(name) !== cursor || unsafeTextReason(name) !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: "is not a cursor this list gave: pass nextCursor of the previous page as it is, or leave it out for the first page",
    });
    return z.NEVER;
  }
  return name;
});

const labelsSchema = z.array(z.string()).transform((pairs, ctx) => {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const split = pair.indexOf("=");
    const key = pair.slice(0, split);
    if (split < 1) ctx.addIssue({ code: "custom", message: `"${pair}" must be key=value, e.g. label=env=prod` });
    else if (Object.hasOwn(labels, key)) ctx.addIssue({ code: "custom", message: `label ${key} is given twice; a check has one value per label` });
    else Object.defineProperty(labels, key, { value: pair.slice(split + 1), enumerable: true });
  }
  return labels;
});

export const listQuerySchema = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(MAX_CHECK_PAGE).default(DEFAULT_CHECK_PAGE),
    cursor: cursorSchema.optional(),
    type: z.enum([...CHECK_TYPES, HEARTBEAT_CHECK_TYPE]).optional(),
    label: labelsSchema.optional(),
    enabled: z
      .enum(["true", "false"], { error: "must be true or false" })
      .transform((value) => value === "true")
      .optional(),
    namePrefix: z.string().min(1).max(200).optional(),
    status: checkHealthStatusSchema.optional(),
    location: z.string().min(1).max(100).optional().describe('Only checks observed from this location: "core" or a satellite\'s id.'),
    summaries: z
      .enum(Object.keys(BAR_RANGES) as [BarRange])
      .optional()
      .describe("Also answer the page's health and uptime bars over this range (as /checks/summaries would for its ids)."),
  })
  .transform(({ cursor, label, summaries, ...rest }): { list: CheckListQuery; summaries: BarRange | undefined } => ({
    list: {
      ...rest,
      ...(cursor === undefined ? {} : { after: cursor }),
      ...(label === undefined ? {} : { labels: label }),
    },
    summaries,
  }));
