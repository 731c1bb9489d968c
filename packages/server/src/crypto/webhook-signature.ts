// The `X-Vantage-Signature` header of outgoing webhooks, so a receiver can prove a request
// came from Vantage and is fresh: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Vantage-Signature";

/** The header value for `body` sent at `nowMs` (epoch milliseconds). */
export function signWebhook(secret: string, body: string, nowMs: number): string {
  const timestamp = Math.floor(nowMs / 1000);
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${digest}`;
}
