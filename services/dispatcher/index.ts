/** Public surface of the webhook dispatcher. */
export { buildDispatcher, type BuildDispatcherOptions, type FieldhookDispatcher } from './build-dispatcher.js';
export { DISPATCH_CONFIG, createDispatchConfig, dispatchDbPath, loadDispatchConfig, type DispatchConfig } from './config.js';
export {
  EVENT_TYPES,
  OPERATIONAL_EVENT_TYPES,
  TEST_EVENT_TYPE,
  type EventEnvelope,
  type PublishInput,
  type PublishResult,
} from './events.js';
export { DEFAULT_RETRY_SCHEDULE_MS, DEFAULT_RETRY_POLICY } from './retry-policy.js';
export type { Clock } from '../shared/clock.js';
