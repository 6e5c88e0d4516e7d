import { Errors } from '../shared/error-catalog.js';

/*
 * The dispatcher's codes are defined in services/shared/error-catalog.ts. These names remain for
 * the dispatcher modules that still import them; new code uses `Errors.*` from the catalog directly.
 */
export const SubscriptionNotFound = Errors.subscriptionNotFound;
export const SubscriptionInvalidUrl = Errors.subscriptionInvalidUrl;
export const SubscriptionInvalidSecret = Errors.subscriptionInvalidSecret;
export const SubscriptionInvalidFilter = Errors.subscriptionInvalidFilter;
export const Unauthorized = Errors.authUnauthorized;
export const DeliveryNotFound = Errors.webhookDeliveryNotFound;
export const WebhookExpired = Errors.webhookExpired;
export const WebhookInvalidEvent = Errors.webhookInvalidEvent;
export const WebhookSsrfBlocked = Errors.webhookSsrfBlocked;
export const WebhookTimeout = Errors.webhookTimeout;
export const WebhookStopped = Errors.webhookStopped;
