import { z } from 'zod';
import type { MessageTone } from '../messages/render-message.js';
import type { Format } from './format.js';
import { JSON_HEADERS, messageOf } from './message-of.js';

const TITLE_COLOR: Record<MessageTone, string> = { action: 'Accent', warning: 'Attention', ok: 'Good', info: 'Default' };

/**
 * Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
 * received"): a message whose attachment is an Adaptive Card. Version 1.5 for `rtl`, which Teams
 * renders; the card uses nothing newer than 1.4 otherwise.
 * https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
 * https://adaptivecards.io/explorer/AdaptiveCard.html
 */
export const teamsFormat: Format = {
  name: 'teams',
  destination: 'http',
  settings: z.strictObject({}),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.5',
      ...(m.direction === 'rtl' ? { rtl: true } : {}),
      body: [
        { type: 'TextBlock', text: m.title, weight: 'Bolder', size: 'Medium', color: TITLE_COLOR[m.tone], wrap: true, style: 'heading' },
        { type: 'TextBlock', text: m.text, wrap: true },
        ...(m.facts.length > 0 ? [{ type: 'FactSet', facts: m.facts.map((f) => ({ title: f.label, value: f.value })) }] : []),
      ],
      msteams: { width: 'Full' },
    };
    return {
      kind: 'http',
      url: subscription.url,
      headers: { ...JSON_HEADERS },
      body: JSON.stringify({
        type: 'message',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
      }),
    };
  },
};
