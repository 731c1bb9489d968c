// How a notification reads in chat: Slack text escaped so nothing in it pings or links by
// accident, Discord content with mentions off unless the channel opts in, both cut to the
// service's limit by code points and at grapheme boundaries, so no emoji is ever split.
import { headline, type Notification } from "./channel-sender.ts";

/** Slack renders at most about this many characters of `text` in one message. */
export const SLACK_MAX_TEXT = 4_000;
/** Discord refuses longer `content` with a 400. */
export const DISCORD_MAX_CONTENT = 2_000;
const ELLIPSIS = "…";

const SLACK_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
// Slack's mention tokens, kept when the channel opts in: <!here>, <!channel>, <!everyone>,
// <!subteam^ID> (a user group), <@U…>/<@W…> (a user), each with an optional |label.
const SLACK_MENTION = /<(?:!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)(?:\|[^<>]*)?>/g;

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** What a reader sees as one character (an emoji with its modifiers, a flag …), in order. */
function graphemes(text: string): string[] {
  return Array.from(graphemeSegmenter.segment(text), (part) => part.segment);
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * The units joined, or, if that exceeds `max` code points, as many leading units as fit with
 * an ellipsis after them. Units are never split: an escape, a mention or an emoji stays whole.
 */
export function fitCodePoints(units: readonly string[], max: number): string {
  const lengths = units.map(codePointCount);
  if (lengths.reduce((sum, length) => sum + length, 0) <= max) return units.join("");
  let kept = "";
  let used = 0;
  for (const [index, unit] of units.entries()) {
    if (used + lengths[index]! > max - 1) break;
    kept += unit;
    used += lengths[index]!;
  }
  return kept + ELLIPSIS;
}

const escapeSlack = (text: string) => graphemes(text).map((grapheme) => grapheme.replace(/[&<>]/g, (char) => SLACK_ESCAPES[char]!));

/** Slack units of `text`: every grapheme escaped, except whole mention tokens when they are allowed. */
function slackUnits(text: string, mentions: boolean): string[] {
  if (!mentions) return escapeSlack(text);
  const units: string[] = [];
  let from = 0;
  for (const match of text.matchAll(SLACK_MENTION)) {
    units.push(...escapeSlack(text.slice(from, match.index)), match[0]);
    from = match.index + match[0].length;
  }
  return [...units, ...escapeSlack(text.slice(from))];
}

/** Slack's `text`: the headline in bold, then the message; `&`, `<` and `>` escaped (mentions kept only when allowed). */
export function slackText(notification: Notification, options: { mentions: boolean }): string {
  const units = ["*", ...slackUnits(headline(notification), options.mentions), "*", "\n", ...slackUnits(notification.message, options.mentions)];
  return fitCodePoints(units, SLACK_MAX_TEXT);
}

/** Discord's message body: the headline in bold, then the message, pinging nobody unless allowed. */
export function discordMessage(notification: Notification, options: { mentions: boolean }): { content: string; allowed_mentions: { parse: string[] } } {
  const content = fitCodePoints(graphemes(`**${headline(notification)}**\n${notification.message}`), DISCORD_MAX_CONTENT);
  return { content, allowed_mentions: { parse: options.mentions ? ["everyone", "roles", "users"] : [] } };
}
