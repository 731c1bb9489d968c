// Config as code: the resources of a bundle as files hold them (`{ kind, name, spec }`), the
// request the CLI sends to plan or apply them, and the plan the core answers. A spec is exactly
// the body the kind's API accepts, without its name (the resource's name is the identity).
import { z } from "zod";
import { safeText } from "../safe-text.ts";

/** The kinds a bundle may hold, in the order an apply writes them (a window selects checks; automations notify channels). */
export const RESOURCE_KINDS = ["NotificationChannel", "Satellite", "Check", "MaintenanceWindow", "Automation"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

const resourceName = safeText().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");

export const bundleResourceSchema = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  name: resourceName,
  /**
   * The API body of the kind without `name`; validated by the kind's own schema. A `name` in it
   * is refused rather than silently overridden by the resource's.
   */
  spec: z
    .record(z.string(), z.unknown())
    .refine((spec) => !Object.hasOwn(spec, "name"), { path: ["name"], message: "the name is the resource's own (name: beside kind:), not part of its spec" }),
  /** The name the resource had before: a rename, not a delete and a create. */
  previousName: resourceName.optional(),
});
export type BundleResource = z.infer<typeof bundleResourceSchema>;

/** What `vantage plan` and `vantage apply` send; `${env:…}` references are already resolved by the CLI. */
export const configRequestSchema = z.strictObject({
  /** Which bundle owns what is applied: resources owned by another bundle are refused. */
  bundle: safeText().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
  resources: z.array(bundleResourceSchema).max(2_000, "must hold at most 2000 resources"),
  /** Delete the resources this bundle owns that it no longer holds. */
  prune: z.boolean().default(false),
  /** Release the resources this bundle owns that it no longer holds (they stay, unmanaged). */
  detach: z.boolean().default(false),
  /** The commit the bundle comes from, recorded in the cause of every change. */
  commit: z
    .string()
    .regex(/^[0-9a-f]{4,64}$/i, "must be a commit hash")
    .optional(),
  /** apply only: the fingerprint of a saved plan; the apply is refused when the state moved since. */
  fingerprint: z.string().optional(),
});
export type ConfigRequest = z.input<typeof configRequestSchema>;

export const PLAN_ACTIONS = ["create", "update", "delete", "detach", "no-op"] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** One changed field: its dotted path, before and after (secrets as `<secret>`, absent = not set). */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface PlannedChange {
  kind: ResourceKind;
  name: string;
  action: PlanAction;
  /** The stored resource (absent for a create). */
  id?: string;
  /** Renamed from. */
  previousName?: string;
  /** Edited outside the bundle (UI, API) since its last apply: the apply will overwrite it. */
  drift: boolean;
  /** The resource exists but no bundle owns it yet: the apply takes it over. */
  adopt: boolean;
  changes: FieldChange[];
}

export interface ConfigPlan {
  bundle: string;
  /** Over the current state of everything the plan read: `apply --plan` refuses when it moved. */
  fingerprint: string;
  /** True when an apply would write something (creates, updates, deletes, detaches). */
  hasChanges: boolean;
  changes: PlannedChange[];
}

/** For editors: one resource of a bundle file. */
export const bundleResourceJsonSchema = z.toJSONSchema(bundleResourceSchema, { io: "input", unrepresentable: "any" });

/** A stored secret's name, as `${secret:NAME}` references it (the CLI's `${env:NAME}` takes the same shape). */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const secretNameSchema = z.string().regex(SECRET_NAME, "must be letters, digits and _, not starting with a digit (at most 128)");

/** `${secret:NAME}` inside any string of a spec: resolved by the core when it plans or applies. */
export const SECRET_REFERENCE = /\$\{secret:([A-Za-z_][A-Za-z0-9_]{0,127})\}/g;

/**
 * A secret's value. At least 8 characters: plans and exports replace every occurrence of a
 * stored value by its reference, which a very short value would do in unrelated text too.
 */
export const setSecretSchema = z.strictObject({
  value: z.string().min(8, "must be at least 8 characters (shorter ones could not be masked reliably)").max(16_384),
});
