import { EVENTS_TOPIC, InvalidBusMessage, connectSubscriber, type BusConnection, type Subscriber } from '../shared/bus/index.js';
import type { Logger } from '../shared/logger.js';
import type { PublishInput, PublishResult } from './events.js';
import { isFieldhookError } from '../shared/errors.js';

export interface BusConsumerOptions {
  /** Stable per dispatcher instance (persistent session). */
  clientId: string;
  /** Group in which several dispatchers split the events. */
  group: string;
}

export const DEFAULT_BUS_CONSUMER_OPTIONS: BusConsumerOptions = {
  // Per process, as before the bus module; a stable per-instance id comes with running several.
  clientId: `fieldhook-dispatcher-${process.pid}`,
  group: 'fieldhook-dispatch',
};

/**
 * Accepts events from `EVENTS_TOPIC` into the outbox. The PUBACK is sent only after the outbox
 * commit, so a crash before the commit makes the broker redeliver; a redelivered event is a
 * duplicate unless the publisher set its `id` (then it is accepted once). Not JSON, or not an
 * event: acknowledged and logged, since redelivering it would not make it valid.
 */
export function createBusConsumer(
  connection: BusConnection,
  deps: { publish(input: PublishInput): Promise<PublishResult>; logger: Logger },
  options: Partial<BusConsumerOptions> = {},
): Subscriber {
  const opts = { ...DEFAULT_BUS_CONSUMER_OPTIONS, ...options };
  return connectSubscriber(
    connection,
    { clientId: opts.clientId, group: opts.group, filter: EVENTS_TOPIC },
    async (packet) => {
      let input: PublishInput;
      try {
        input = JSON.parse(packet.payload.toString()) as PublishInput;
      } catch {
        throw new InvalidBusMessage('bus event is not JSON');
      }
      try {
        await deps.publish(input);
      } catch (err) {
        // Refused for what it is (its shape, a value the database will not store): the same message
        // fails again on every delivery and would hold up every event behind it. An outage is retried.
        if (isFieldhookError(err) && err.statusCode < 500) throw new InvalidBusMessage(`${err.code}: ${err.message}`);
        throw err;
      }
    },
    deps.logger,
  );
}
