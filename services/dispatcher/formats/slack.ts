import { z } from 'zod';
import type { Format } from './format.js';
import { clip, JSON_HEADERS, messageOf } from './message-of.js';

/** The `action_id` of the advice's button; the Slack interactivity endpoint answers it. */
export const SLACK_IRRIGATED_ACTION = 'fieldhook.irrigated';

/** Slack's mrkdwn reserves `&`, `<` and `>` (links, mentions): escaped, the text stays text. */
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Slack incoming webhook: `text` (the notification and fallback) plus Block Kit `blocks` (a header,
 * the message, its facts as context, and on an advice the "Irrigated N mm" button).
 * https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
 */
export const slackFormat: Format = {
  name: 'slack',
  destination: 'http',
  settings: z.strictObject({}),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    const blocks: Record<string, unknown>[] = [
      // Header text is plain_text, at most 150 characters; a section's mrkdwn at most 3000.
      { type: 'header', text: { type: 'plain_text', text: clip(m.title, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(escape(m.text), 3000) } },
    ];
    if (m.facts.length > 0) {
      // A context block holds at most 10 elements.
      blocks.push({ type: 'context', elements: m.facts.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: clip(escape(`${f.label}: ${f.value}`), 3000) })) });
    }
    if (m.action) {
      blocks.push({
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: SLACK_IRRIGATED_ACTION,
            style: 'primary',
            text: { type: 'plain_text', text: clip(m.action.label, 75), emoji: true },
            value: JSON.stringify({ farm: m.action.farm, field: m.action.field, depth_mm: m.action.depthMm }),
          },
        ],
      });
    }
    return {
      kind: 'http',
      url: subscription.url,
      headers: { ...JSON_HEADERS },
      body: JSON.stringify({ text: clip(escape(m.text), 3000), blocks, unfurl_links: false, unfurl_media: false }),
    };
  },
};
