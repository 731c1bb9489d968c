// Who caused a change: every entity change carries an actor so the UI can say
// "done by the platform", "by user alice" or "by automation X".
import { z } from "zod";

export const actorTypeSchema = z.enum(["system", "user", "token", "satellite", "automation"]);

export const actorSchema = z.object({
  type: actorTypeSchema,
  id: z.string().min(1),
  name: z.string().optional(),
});

export type ActorType = z.infer<typeof actorTypeSchema>;
export type Actor = z.infer<typeof actorSchema>;

/** The platform itself: heartbeat monitor, schedulers, migrations. */
export const SYSTEM_ACTOR: Actor = Object.freeze({ type: "system", id: "system", name: "Vantage" });
