/** The bus contract: topics, payloads and the one way to publish and subscribe. */
export * from './topics.js';
export * from './payloads.js';
export { RECONNECT_PERIOD_MS, SESSION_EXPIRY_S, discardSession, sessionOptions, type BusConnection, type BusPrincipal, type SessionLeaveOptions } from './connection.js';
export { DEFAULT_RETRY_DELAY_MS, InvalidBusMessage, connectSubscriber, endSubscribers, subscriptionFilter, type Subscriber, type SubscriberOptions } from './subscriber.js';
export { connectPublisher, type Publisher } from './publisher.js';
