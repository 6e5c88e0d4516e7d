import { z } from 'zod';
import type { Format } from './format.js';

/**
 * The envelope as stored, signed per Standard Webhooks (https://www.standardwebhooks.com/): for
 * systems, which verify the signature and read `data`.
 */
export const standardWebhooksFormat: Format = {
  name: 'standard-webhooks',
  destination: 'http',
  settings: z.strictObject({}),
  render: ({ body, subscription, signatureHeaders }) => ({
    kind: 'http',
    url: subscription.url,
    headers: { ...signatureHeaders(), 'content-type': 'application/json' },
    body,
  }),
};
