// The core's outbound HTTP: the one client every request to a user's URL goes through (webhook
// steps, notification senders, later HTTP probes), identified as `Vantage/<version of the core>`.
import { createOutboundClient } from "@vantage/outbound";
import packageJson from "../../package.json" with { type: "json" };

export { IDEMPOTENCY_HEADER, isCredentialHeader, withTimeout } from "@vantage/outbound";

/** The core's version, read once from its package.json. */
export const CORE_VERSION: string = packageJson.version;

/**
 * One for the whole process. The connections it keeps for reuse (webhooks, notifications) are
 * unreferenced while idle and close after a few seconds of it, so they hold no shutdown up.
 */
export const outbound = createOutboundClient({ userAgent: `Vantage/${CORE_VERSION}` });
