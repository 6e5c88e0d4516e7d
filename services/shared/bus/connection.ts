import mqtt, { type IClientOptions } from 'mqtt';

/**
 * The process's own parts that reach the embedded broker, each with a login of its own: the bus
 * publisher (durable readings out), the predictor and the dispatcher.
 */
export type BusPrincipal = 'bus' | 'predictor' | 'dispatcher';

/** How a part reaches the bus: the embedded broker (internal login) or an external one. */
export interface BusConnection {
  url: string;
  username?: string;
  password?: string;
  /** 5 on MQTT 5 brokers; 4 (3.1.1) on the embedded broker and brokers without MQTT 5. */
  protocolVersion: 4 | 5;
  /**
   * Whether the broker splits `$share/…` subscriptions between instances (Mosquitto 2 and EMQX do,
   * for 3.1.1 clients too). The embedded broker does not; one instance runs there anyway.
   */
  sharedSubscriptions: boolean;
}

/**
 * How long the broker keeps a subscriber's session (and the QoS 1 messages queued for it) after a
 * disconnect, s. One rule for every part: a week covers a long outage of any consumer, and the
 * spool, not the broker, is what holds readings durably.
 */
export const SESSION_EXPIRY_S = 7 * 24 * 3600;

/** Wait before reconnecting to the broker, ms. */
export const RECONNECT_PERIOD_MS = 1_000;

/**
 * mqtt.js options of a connection with a persistent session. `maximumPacketSize` (bytes) is
 * announced on CONNECT on MQTT 5: the broker then never sends a larger packet (MQTT 5 §3.1.2.11.4).
 */
export function sessionOptions(connection: BusConnection, clientId: string, limits: { maximumPacketSize?: number } = {}): IClientOptions {
  return {
    clientId,
    clean: false,
    protocolVersion: connection.protocolVersion,
    reconnectPeriod: RECONNECT_PERIOD_MS,
    // MQTT 5 sessions end with the connection unless told otherwise.
    ...(connection.protocolVersion === 5
      ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S, ...(limits.maximumPacketSize ? { maximumPacketSize: limits.maximumPacketSize } : {}) } }
      : {}),
    ...(connection.username ? { username: connection.username } : {}),
    ...(connection.password ? { password: connection.password } : {}),
  };
}

/**
 * Ends the broker's session of `clientId` for good: a clean connection (3.1.1 discards the old
 * session on CONNECT; on MQTT 5 a clean start with no expiry ends it at DISCONNECT), closed at
 * once. The way out on 3.1.1, where DISCONNECT cannot shorten a session, and wherever the
 * DISCONNECT that would have ended it was not sent.
 */
export async function discardSession(connection: BusConnection, clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(connection.url, {
    clientId,
    clean: true,
    protocolVersion: connection.protocolVersion,
    reconnectPeriod: 0,
    ...(connection.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
    ...(connection.username ? { username: connection.username } : {}),
    ...(connection.password ? { password: connection.password } : {}),
  });
  await client.endAsync();
}

/** How a session leaves its shared group for good (`Subscriber.leave`, the ingestor's consumer). */
export interface SessionLeaveOptions {
  /** Aborted: what is not yet left is stopped instead (its session kept) and `leave()` rejects. */
  signal?: AbortSignal;
  /**
   * End only a session this process created: one the broker already held at the first connect
   * (a restart) is kept, as on `stop()`. A restart that fails must not empty its groups: a shared
   * group without members drops what devices publish, and they got their PUBACK from the broker.
   */
  keepOlderSessions?: boolean;
}
