// The who and why of a write made through the API: the request's principal, and the request's id as its cause.
import type { Context } from "hono";
import { requestActor } from "../auth/index.ts";
import { requestCause } from "../http/index.ts";
import type { WriteContext } from "./resource-changes.ts";

export const requestWriteContext = (c: Context): WriteContext => ({ actor: requestActor(c), cause: requestCause(c) });
