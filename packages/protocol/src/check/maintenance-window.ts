// A maintenance window: which checks (by id or label selector), when (a start and an end, and
// optionally a weekly recurrence in an IANA time zone). While one is active a check's health
// carries `maintenance: true`, and its status triggers are recorded as skips, not fired.
import { z } from "zod";
import { isTimeZone, WEEKDAYS } from "../automation/definition.ts";
import { uuidSchema } from "../uuid.ts";
import { labelKeySchema, MAX_LABELS } from "./definition.ts";

export const MAX_WINDOW_CHECK_IDS = 1_000;
/** A recurring occurrence may last up to a week (longer ones would overlap themselves forever). */
export const MAX_RECURRING_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

const instantSchema = z.iso.datetime({ offset: true });

export const maintenanceWindowChecksSchema = z
  .strictObject({
    ids: z.array(uuidSchema()).max(MAX_WINDOW_CHECK_IDS).optional(),
    /** Every one of these labels must hold (as the checks list's label filter). */
    labels: z
      .record(labelKeySchema, z.string().max(200))
      .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)
      .optional(),
  })
  .refine((checks) => (checks.ids?.length ?? 0) > 0 || checks.labels !== undefined, "name the checks: ids, labels or both");

export const weeklyRecurrenceSchema = z.strictObject({
  frequency: z.literal("weekly"),
  /** IANA name, e.g. Europe/Berlin: occurrences keep the start's wall-clock time across DST changes. */
  timeZone: z.string().refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin or UTC"),
  /** The weekdays it starts on (default: the start's weekday in the time zone). */
  days: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
  /** No occurrence starts after this instant. */
  until: instantSchema.optional(),
});
export type WeeklyRecurrence = z.infer<typeof weeklyRecurrenceSchema>;

export const maintenanceWindowSchema = z
  .strictObject({
    name: z.string().regex(/\S/, "cannot be empty").trim().max(200),
    description: z.string().max(2_000).optional(),
    checks: maintenanceWindowChecksSchema,
    /** The first occurrence's start and end (ISO instants with an offset). */
    start: instantSchema,
    end: instantSchema,
    recurrence: weeklyRecurrenceSchema.optional(),
  })
  .refine((window) => Date.parse(window.end) > Date.parse(window.start), { message: "end must be after start", path: ["end"] })
  .refine((window) => !window.recurrence || Date.parse(window.end) - Date.parse(window.start) <= MAX_RECURRING_WINDOW_MS, {
    message: "a recurring window lasts at most 7 days",
    path: ["end"],
  });
export type MaintenanceWindowDefinition = z.infer<typeof maintenanceWindowSchema>;
export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;
