// Slack and Discord messages: mentions escaped or allowed as the channel says, and truncated by code points without cutting an escape or an emoji.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createNotificationSenders } from "../../../src/notifications/index.ts";
import type { Notification } from "../../../src/notifications/senders/channel-sender.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";

const senders = createNotificationSenders({ timeoutMs: 5_000 });
let receiver: HttpReceiver;

beforeAll(async () => {
  receiver = await startHttpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});
beforeEach(() => {
  receiver.requests.length = 0;
});

const LONE_SURROGATE = /\p{Cs}/u;

/** JSON.parse that refuses what a strict parser refuses: strings holding a lone surrogate (e.g. `"\ud83d"`). */
function strictJson(text: string): Record<string, unknown> {
  return JSON.parse(text, (key, value: unknown) => {
    if (LONE_SURROGATE.test(key) || (typeof value === "string" && LONE_SURROGATE.test(value)))
      throw new SyntaxError(`lone surrogate in ${JSON.stringify(key)}`);
    return value;
  }) as Record<string, unknown>;
}

const codePoints = (text: string) => [...text].length;
const slack = { webhookUrl: "" };
const discord = { webhookUrl: "" };

async function sendSlack(notification: Notification, settings: { mentions?: boolean } = {}) {
  await senders.slack({ ...slack, webhookUrl: `${receiver.origin}/services/T/B/x`, ...settings }, notification, {});
  return strictJson(receiver.requests.at(-1)!.body) as { text: string };
}

async function sendDiscord(notification: Notification, settings: { mentions?: boolean } = {}) {
  await senders.discord({ ...discord, webhookUrl: `${receiver.origin}/api/webhooks/1/x`, ...settings }, notification, {});
  return strictJson(receiver.requests.at(-1)!.body) as { content: string; allowed_mentions?: unknown };
}

describe("Slack text", () => {
  it("escapes &, < and > so that <!channel>, user mentions and links arrive as plain text", async () => {
    const { text } = await sendSlack({
      title: "a<b",
      message: "Deploy <!channel> & <!here> <!everyone> <@U123> <http://evil.test|click> > 5",
      severity: "critical",
    });

    expect(text).toBe("*[CRITICAL] a&lt;b*\nDeploy &lt;!channel&gt; &amp; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt; &lt;http://evil.test|click&gt; &gt; 5");
  });

  it("keeps mentions when the channel opts in, and still escapes everything else", async () => {
    const { text } = await sendSlack({ title: "t", message: "<!here> <@U123|ana> & <http://evil.test|click>" }, { mentions: true });

    expect(text).toBe("*t*\n<!here> <@U123|ana> &amp; &lt;http://evil.test|click&gt;");
  });

  it("truncates by code points within 4000, never cutting an escape or an emoji in half", async () => {
    const { text } = await sendSlack({ title: "t", message: "&🚨".repeat(3_000) });

    expect(codePoints(text)).toBeLessThanOrEqual(4_000);
    expect(codePoints(text)).toBeGreaterThan(3_990);
    expect(text).toMatch(/^\*t\*\n(&amp;🚨)*(&amp;)?…$/u);
  });
});

describe("Discord content", () => {
  it("allows no mentions by default, so @everyone, @here and role pings stay text", async () => {
    const body = await sendDiscord({ title: "t", message: "@everyone @here <@&123> <@456>" });

    expect(body).toEqual({ content: "**t**\n@everyone @here <@&123> <@456>", allowed_mentions: { parse: [] } });
  });

  it("lets everyone, roles and users be mentioned when the channel opts in", async () => {
    const body = await sendDiscord({ title: "t", message: "@here" }, { mentions: true });

    expect(body.allowed_mentions).toEqual({ parse: ["everyone", "roles", "users"] });
  });

  it("truncates to 2000 code points without splitting a surrogate pair", async () => {
    const { content } = await sendDiscord({ title: "t", message: "🚨".repeat(2_500) });

    expect(codePoints(content)).toBe(2_000);
    expect(content).toMatch(/^\*\*t\*\*\n🚨+…$/u);
  });

  it("never cuts a multi-code-point emoji into pieces", async () => {
    const family = "👨‍👩‍👧";
    const { content } = await sendDiscord({ title: "t", message: family.repeat(1_000) });

    expect(codePoints(content)).toBeLessThanOrEqual(2_000);
    expect(content.slice(0, -1).endsWith(family)).toBe(true);
    expect(content.endsWith("…")).toBe(true);
  });

  it("sends a short message whole", async () => {
    const { content } = await sendDiscord({ title: "t", message: "🚨 ok" });
    expect(content).toBe("**t**\n🚨 ok");
  });
});
