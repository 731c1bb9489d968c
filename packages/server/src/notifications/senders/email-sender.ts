// Email deliveries over SMTP through nodemailer: one connection per notification, closed
// after it, so a channel's edit takes effect at once and nothing stays open between alerts.
import { createTransport } from "nodemailer";
import { withTimeout } from "../../outbound/index.ts";
import type { ChannelSettingsOf } from "../channel-schemas.ts";
import { type ChannelSender, headline, rejected, undeliverable } from "./channel-sender.ts";

export interface EmailSenderOptions {
  timeoutMs: number;
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
}

// A refusal the server will repeat: permanent SMTP replies (5xx) and failed authentication.
function isPermanent(error: SmtpError): boolean {
  return error.code === "EAUTH" || (error.responseCode !== undefined && error.responseCode >= 500);
}

function replyCode(response: string | undefined): number | undefined {
  const code = Number.parseInt(response ?? "", 10);
  return Number.isNaN(code) ? undefined : code;
}

export function createEmailSender(options: EmailSenderOptions): ChannelSender<ChannelSettingsOf["email"]> {
  return async (settings, notification, sendOptions) => {
    // nodemailer's own timeouts bound each phase; this bounds the whole delivery.
    const deadline = withTimeout(sendOptions.signal, options.timeoutMs);
    const { signal } = deadline;
    const server = `${settings.host}:${settings.port}`;
    const cancelled = () =>
      undeliverable(
        (signal.reason as Error | undefined)?.name === "TimeoutError"
          ? `The SMTP server ${server} did not take the message within ${options.timeoutMs} ms.`
          : `Sending to the SMTP server ${server} was cancelled.`,
        { cause: signal.reason },
      );
    if (signal.aborted) {
      deadline.release();
      throw cancelled();
    }
    const transport = createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      auth: settings.username === undefined ? undefined : { user: settings.username, pass: settings.password ?? "" },
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
    const payload = notification.payload === undefined ? "" : `\n\n${JSON.stringify(notification.payload, null, 2)}`;
    // nodemailer takes no signal: a cancelled delivery stops waiting at once and closes the transport.
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(cancelled());
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const sending = transport.sendMail({ from: settings.from, to: settings.to, subject: headline(notification), text: `${notification.message}${payload}` });
      // Once cancelled, nobody awaits the send any more; its late failure must not go unhandled.
      sending.catch(() => undefined);
      const info = await Promise.race([sending, aborted]);
      return { status: replyCode(info.response) };
    } catch (error) {
      if (signal.aborted) throw cancelled();
      const smtp = error as SmtpError;
      const message = `The SMTP server ${server} ${smtp.responseCode ? `answered ${smtp.responseCode}` : "failed"}: ${smtp.message}.`;
      throw (isPermanent(smtp) ? rejected : undeliverable)(message, { status: smtp.responseCode, cause: error });
    } finally {
      signal.removeEventListener("abort", onAbort);
      deadline.release();
      transport.close();
    }
  };
}
