import { defineError } from '../shared/errors.js';

// Stable codes: clients and receivers branch on them, so never rename one.
export const SubscriptionNotFound = defineError('FH_ERR_SUBSCRIPTION_NOT_FOUND', 404, 'Subscription not found');
export const SubscriptionInvalidUrl = defineError('FH_ERR_SUBSCRIPTION_INVALID_URL', 400, 'Subscription URL is not allowed');
export const SubscriptionInvalidSecret = defineError(
  'FH_ERR_SUBSCRIPTION_INVALID_SECRET',
  400,
  'A secret is `whsec_` followed by 24 to 64 base64-encoded bytes',
);
export const SubscriptionInvalidFilter = defineError('FH_ERR_SUBSCRIPTION_INVALID_FILTER', 400, 'Invalid event type filter');
export const Unauthorized = defineError('FH_ERR_AUTH_UNAUTHORIZED', 401, 'A valid admin bearer token is required');
export const DeliveryNotFound = defineError('FH_ERR_WEBHOOK_DELIVERY_NOT_FOUND', 404, 'Delivery not found');
export const WebhookExpired = defineError('FH_ERR_WEBHOOK_EXPIRED', 409, 'The event is past its valid_until');
export const WebhookInvalidEvent = defineError('FH_ERR_WEBHOOK_INVALID_EVENT', 400, 'Invalid event');
export const WebhookSsrfBlocked = defineError('FH_ERR_WEBHOOK_SSRF_BLOCKED', 400, 'Destination address is not allowed');
export const WebhookTimeout = defineError('FH_ERR_WEBHOOK_TIMEOUT', 504, 'Webhook request timed out');
export const WebhookStopped = defineError('FH_ERR_WEBHOOK_STOPPED', 503, 'The dispatcher is stopped');
