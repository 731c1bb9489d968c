// Users, roles, API tokens and login: the request bodies the core validates and the answers
// the web UI reads, one schema for both.
import { z } from "zod";
import { actorSchema } from "../actor.ts";
import { safeText } from "../safe-text.ts";

/** Least to most: a viewer reads, an editor also writes (but not users, tokens, settings), an admin does everything. */
export const ROLES = ["viewer", "editor", "admin"] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** Whether `role` may do what `required` may. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** The prefix of API tokens: `vtk_` + 43 base64url characters (256 random bits). */
export const API_TOKEN_PREFIX = "vtk";

/** Passwords: long enough to resist guessing, short enough that hashing one stays bounded. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Trimmed and lower-cased, so one address is one account however it is typed. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, "must be an e-mail address");

export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

export const loginRequestSchema = z.strictObject({
  email: emailSchema,
  // Any length is checked (and refused) the same way; only the upper bound protects the hash.
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});
export type LoginRequest = z.infer<typeof loginRequestSchema>;

export const createUserRequestSchema = z.strictObject({
  email: emailSchema,
  role: roleSchema,
  /** Omitted: the core generates one and returns it once. */
  password: passwordSchema.optional(),
});
export type CreateUserRequest = z.infer<typeof createUserRequestSchema>;

export const updateUserRequestSchema = z
  .strictObject({
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
    password: passwordSchema.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, "name at least one of role, disabled, password");
export type UpdateUserRequest = z.infer<typeof updateUserRequestSchema>;

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: roleSchema,
  disabled: z.boolean(),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});
export type User = z.infer<typeof userSchema>;

/** At most ten years ahead; omitted, the token never expires. */
export const createApiTokenRequestSchema = z.strictObject({
  name: safeText().trim().min(1).max(100),
  role: roleSchema,
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type CreateApiTokenRequest = z.infer<typeof createApiTokenRequestSchema>;

export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  createdBy: actorSchema,
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof apiTokenSchema>;

/** Who the caller is (`GET /auth/me`, and login's answer); `csrfToken` only for a browser session. */
export const whoAmISchema = z.object({
  actor: actorSchema,
  role: roleSchema,
  user: userSchema.nullable(),
  csrfToken: z.string().optional(),
  /** When the session ends at the latest (sessions only). */
  expiresAt: z.string().optional(),
});
export type WhoAmI = z.infer<typeof whoAmISchema>;

/** The header a cookie-authenticated write must carry, with the session's CSRF token. */
export const CSRF_HEADER = "X-CSRF-Token";
