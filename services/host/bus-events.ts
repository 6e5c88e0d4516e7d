import { EVENTS_TOPIC, connectPublisher, type BusConnection, type PublishInput, type Publisher } from '../shared/bus/index.js';
import type { Component } from '../shared/component.js';
import type { Logger } from '../shared/logger.js';

/** Events handed to a dispatcher in another process, through the broker. */
export interface BusEvents extends Component {
  /** Resolves once the broker took the event (QoS 1 PUBACK); a dispatcher's bus consumer takes it into its outbox. */
  publish(event: PublishInput): Promise<void>;
}

/**
 * Where the predictor's events go when no dispatcher runs in its process: `EVENTS_TOPIC` on the
 * shared broker, which keeps them for the dispatchers' shared subscription until one of them has
 * committed each to its outbox. Connected at start, with a client id of this instance's own.
 */
export function createBusEvents(connection: () => BusConnection, clientId: string, logger: Logger): BusEvents {
  let publisher: Publisher | undefined;
  return {
    name: 'events',
    readiness: [{ name: 'events', check: async () => ({ ok: publisher?.connected() === true }) }],
    async start() {
      publisher = connectPublisher(connection(), clientId, logger);
    },
    async stop() {
      await publisher?.stop();
    },
    async publish(event) {
      if (!publisher) throw new Error('events: the bus is not connected yet');
      await publisher.publish(EVENTS_TOPIC, JSON.stringify(event));
    },
  };
}
