import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type IDisconnectPacket, type IPubackPacket, type IPublishPacket, type IPubrecPacket, type ISubackPacket, type IUnsubackPacket, type Packet } from 'mqtt-packet';
import { discardSession, type SessionLeaveOptions } from '../shared/bus/connection.js';
import { sessionDrainedTopic } from '../shared/bus/topics.js';
import type { Logger } from '../shared/logger.js';
import { readMqttNumbersInPlace } from './mqtt-packet-reads.js';

/**
 * One consumer connection to an external broker, on mqtt-packet (the codec mqtt.js itself uses)
 * over a socket of our own, because mqtt.js hands a connection's messages over one at a time and
 * acknowledges each before it passes the next: a commit could then hold one message per
 * connection. Here every QoS 1 message is handed over as it arrives; its PUBACK is sent once it
 * is settled and every message received before it on this connection has been acknowledged
 * (MQTT 3.1.1 §4.6, MQTT 5 §4.6: PUBACKs in the order the PUBLISH packets were received). The
 * PUBACKs a commit releases leave in one socket write. Every packet from the broker is read by
 * mqtt-packet's parser, one per socket, fed whole socket chunks.
 */
export interface ConsumerConnectionOptions {
  /** `mqtt://host:port` or `mqtts://host:port` (TLS, verified against the system's CAs). */
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  protocolVersion: 4 | 5;
  /** Filters subscribed at QoS 1 on every connect (a session the broker kept is told again: harmless). */
  filters: string[];
  /** Session kept by the broker after a disconnect (MQTT 5), s; 3.1.1 sessions are kept until taken with clean. */
  sessionExpiryS: number;
  /** Largest packet we take, bytes: announced to MQTT 5 brokers, checked by the handler on 3.1.1. */
  maximumPacketSize: number;
  /**
   * Messages received and not yet acknowledged before the socket stops being read (backpressure
   * towards the broker); announced as `receiveMaximum` on MQTT 5.
   */
  maxInFlight: number;
  /** PINGREQ period, s; a connection silent for two of them is dropped and made again. */
  keepaliveS: number;
  /** First and longest wait before reconnecting, ms; doubled each failed attempt, ±20 % jitter. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Longest wait for the TCP and TLS handshakes and the CONNACK, ms (mqtt.js's `connectTimeout`). */
  connectTimeoutMs: number;
}

export const DEFAULT_CONSUMER_CONNECTION_OPTIONS = Object.freeze({
  connectTimeoutMs: 30_000,
  sessionExpiryS: 7 * 24 * 3600,
  maxInFlight: 1_000,
  keepaliveS: 30,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
});

/** One received message; call `ack()` once it is durable (or refused), exactly once. */
export interface InboundMessage {
  topic: string;
  /** Valid until the acknowledgement is sent (the turn after `ack()`): copy it to keep it longer. */
  payload: Buffer;
  ack(): void;
}

export interface ConsumerConnection {
  /** Resolves on the first CONNACK (and SUBACK when subscribing); rejects if the broker refuses it. */
  start(): Promise<void>;
  /** Closes without acknowledging what is unsettled: the broker redelivers it to the next session. */
  stop(): Promise<void>;
  /**
   * Leaves for good: UNSUBSCRIBE (nothing more is assigned to this session), takes and
   * acknowledges what the session still holds (its own marker, published after the UNSUBACK,
   * arrives behind all of it), then ends the session (MQTT 5: DISCONNECT with a session expiry of
   * 0; 3.1.1: a clean connection). Aborted, or not connected, it stops instead and rejects: the
   * session is kept, with what it holds.
   */
  leave(options?: SessionLeaveOptions): Promise<void>;
  connected(): boolean;
  /** QoS 0 publish (refusals to a device's errors topic). */
  publish(topic: string, payload: string): void;
}

const EMPTY = Buffer.alloc(0);

/** A SUBACK's refusals: reason codes 0x80 and above (3.1.1: 0x80), as numbers. */
function refusals(suback: ISubackPacket): number[] {
  return suback.granted.map((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos)).filter((code) => code >= 0x80);
}
const ignore = (): void => undefined;

/**
 * A QoS 1 or 2 message in flight, handed over as the InboundMessage itself: `ack` is a method, not
 * a closure made per message.
 */
class Pending implements InboundMessage {
  settled = false;
  constructor(
    readonly topic: string,
    public payload: Buffer,
    readonly messageId: number,
    readonly qos: 1 | 2,
    private readonly socket: Socket,
    private readonly onSettle: (pending: Pending, of: Socket) => void,
  ) {}
  ack(): void {
    this.onSettle(this, this.socket);
  }
}

/**
 * Takes what mqtt-packet's `writeToStream` writes for several packets and joins it into one
 * buffer: the PUBACKs a commit releases leave in one socket write, not one per message as
 * `generate` would make them (`writeToStream` writes an acknowledgement from cached header and
 * packet-id buffers, so collecting them allocates nothing per message).
 */
class PacketBatch {
  private parts: Buffer[] = [];
  private bytes = 0;
  write(chunk: Buffer | string): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.parts.push(bytes);
    this.bytes += bytes.length;
    return true;
  }
  /** writeToStream's way of refusing a packet; an acknowledgement with a packet id is never refused. */
  destroy(err?: Error): void {
    if (err) throw err;
  }
  take(): Buffer {
    const out = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}

/** The broker accepted the connection: 0 in both MQTT 3.1.1 (return code) and 5 (reason code). */
const ACCEPTED = 0;

export function createConsumerConnection(
  options: ConsumerConnectionOptions,
  onMessage: (message: InboundMessage) => void,
  logger: Logger,
): ConsumerConnection {
  readMqttNumbersInPlace();
  const url = new URL(options.url);
  const secure = url.protocol === 'mqtts:' || url.protocol === 'ssl:';
  const port = Number(url.port || (secure ? 8883 : 1883));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const generateOptions = { protocolVersion: options.protocolVersion };

  let socket: Socket | undefined;
  let isConnected = false;
  /** Whether the broker held a session under this client id at the first connect (a restart). */
  let sessionFoundAtStart: boolean | undefined;
  let stopping = false;
  let reconnectDelay = options.reconnectMinMs;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  let nextPacketId = 1;
  /** Unacknowledged messages of the current socket, in receive order (a ring would save little). */
  let inFlight: Pending[] = [];
  let head = 0;
  let flushScheduled = false;
  let firstConnect: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** Requests answered by packet id (a leave's UNSUBSCRIBE and SUBSCRIBE). */
  const answers = new Map<number, (packet: ISubackPacket | IUnsubackPacket) => void>();
  const drainedTopic = sessionDrainedTopic(options.clientId);
  /** While leaving: the marker message, and what to call once its PUBACK (so every earlier one) is written. */
  let leaving: { marker: string; received?: Pending; drained: () => void } | undefined;
  // Reused for every acknowledgement. Reason code 0 (success) without properties: MQTT 5 lets it be
  // left out (§3.4.2.1), so the packet is 4 bytes, as in 3.1.1.
  const puback: IPubackPacket = { cmd: 'puback', messageId: 0, reasonCode: 0 };
  const pubrec: IPubrecPacket = { cmd: 'pubrec', messageId: 0, reasonCode: 0 };
  const acks = new PacketBatch();
  // Typed as a Node stream by mqtt-packet; writeToStream calls only write (and destroy on a refusal).
  const acksStream = acks as unknown as NodeJS.WritableStream;

  function write(packet: Packet): void {
    socket?.write(mqttPacket.generate(packet, generateOptions));
  }

  /** PUBACKs (PUBRECs for QoS 2) of the settled messages at the head of the queue, in one write. */
  function flushAcks(): void {
    flushScheduled = false;
    let end = head;
    while (end < inFlight.length && inFlight[end]!.settled) end++;
    if (end === head || !socket) return;
    for (let i = head; i < end; i++) {
      const p = inFlight[i]!;
      const ack = p.qos === 1 ? puback : pubrec;
      ack.messageId = p.messageId;
      mqttPacket.writeToStream(ack, acksStream, generateOptions);
      // Done with: the payload (and the socket chunk it is a view of) is not kept until the queue is compacted.
      p.payload = EMPTY;
    }
    const markerAt = leaving?.received ? inFlight.indexOf(leaving.received, head) : -1;
    const drained = markerAt !== -1 && markerAt < end;
    head = end;
    if (head > 1024 && head * 2 > inFlight.length) {
      inFlight = inFlight.slice(head);
      head = 0;
    }
    socket.write(acks.take());
    if (socket.isPaused() && inFlight.length - head < options.maxInFlight) socket.resume();
    if (drained) leaving!.drained();
  }

  /** Called by a message's `ack()`: marks it settled and flushes the acknowledgements once per turn. */
  function settle(pending: Pending, of: Socket): void {
    // A message of a socket that is gone is redelivered on the next one: nothing to send.
    if (pending.settled || socket !== of) return;
    pending.settled = true;
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushAcks);
    }
  }

  function received(packet: IPublishPacket, current: Socket): void {
    const payload = packet.payload as Buffer;
    if (packet.qos === 0) {
      onMessage({ topic: packet.topic, payload, ack: ignore });
      return;
    }
    const pending = new Pending(packet.topic, payload, packet.messageId!, packet.qos, current, settle);
    inFlight.push(pending);
    if (inFlight.length - head >= options.maxInFlight) current.pause();
    if (packet.topic === drainedTopic) {
      // Ours, not a device's: acknowledged in turn, and once it is, so is all the session held.
      if (leaving && payload.toString() === leaving.marker) leaving.received = pending;
      return pending.ack();
    }
    onMessage(pending);
  }

  function handle(packet: Packet, current: Socket): void {
    switch (packet.cmd) {
      case 'publish':
        return received(packet, current);
      case 'pubrel':
        // QoS 2, second half: the message was stored before its PUBREC left.
        return write({ cmd: 'pubcomp', messageId: packet.messageId! });
      case 'connack':
        return connacked(packet);
      case 'suback':
      case 'unsuback': {
        const answer = answers.get(packet.messageId!);
        answers.delete(packet.messageId!);
        if (answer) return answer(packet);
        return packet.cmd === 'suback' ? subacked(packet) : undefined;
      }
      case 'pingresp':
        return;
      case 'disconnect':
        logger.warn({ clientId: options.clientId, reasonCode: packet.reasonCode }, 'broker disconnected the consumer');
        current.destroy();
        return;
      default:
        return;
    }
  }

  function connacked(packet: IConnackPacket): void {
    const code = packet.reasonCode ?? packet.returnCode ?? ACCEPTED;
    if (code !== ACCEPTED) {
      fail(new Error(`broker refused the connection of ${options.clientId} (code ${code})`));
      return;
    }
    sessionFoundAtStart ??= packet.sessionPresent;
    // Subscribe on every connect: a broker that lost our session must hear it again, and a kept
    // session may lack the subscription (a leave cut short after its UNSUBSCRIBE).
    write({
      cmd: 'subscribe',
      messageId: packetId(),
      subscriptions: options.filters.map((topic) => ({ topic, qos: 1 as const })),
    });
  }

  function subacked(packet: ISubackPacket): void {
    const refused = refusals(packet);
    if (refused.length > 0) return fail(new Error(`broker refused the subscription of ${options.clientId} (${refused.join(', ')})`));
    ready();
  }

  function ready(): void {
    isConnected = true;
    reconnectDelay = options.reconnectMinMs;
    firstConnect?.resolve();
    firstConnect = undefined;
    logger.debug({ clientId: options.clientId }, 'MQTT consumer connected');
  }

  function fail(err: Error): void {
    if (firstConnect) {
      firstConnect.reject(err);
      firstConnect = undefined;
      stopping = true;
    } else {
      logger.error({ err: err.message, clientId: options.clientId }, 'MQTT consumer connection refused; retrying');
    }
    socket?.destroy();
  }

  /** Sends a SUBSCRIBE or UNSUBSCRIBE under a fresh packet id; resolves with the broker's answer. */
  function request(packet: Packet & { messageId: number }): Promise<ISubackPacket | IUnsubackPacket> {
    return new Promise((resolve) => {
      packet.messageId = packetId();
      answers.set(packet.messageId, resolve);
      write(packet);
    });
  }

  /** Ends the connection with `disconnect` (unsettled messages stay unacknowledged: the broker keeps them for the session). */
  async function close(disconnect: IDisconnectPacket): Promise<void> {
    stopping = true;
    clearTimeout(reconnectTimer);
    const current = socket;
    if (!current || current.destroyed) return;
    await new Promise<void>((resolve) => {
      current.once('close', () => resolve());
      current.end(mqttPacket.generate(disconnect, generateOptions));
      setTimeout(() => current.destroy(), 1_000).unref();
    });
  }

  function packetId(): number {
    const id = nextPacketId;
    nextPacketId = nextPacketId === 65_535 ? 1 : nextPacketId + 1;
    return id;
  }

  function connectPacket(): IConnectPacket {
    return {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: options.protocolVersion,
      clientId: options.clientId,
      clean: false,
      keepalive: options.keepaliveS,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: Buffer.from(options.password) } : {}),
      ...(options.protocolVersion === 5
        ? {
            properties: {
              sessionExpiryInterval: options.sessionExpiryS,
              maximumPacketSize: options.maximumPacketSize,
              receiveMaximum: Math.min(65_535, options.maxInFlight),
            },
          }
        : {}),
    };
  }

  function open(): void {
    reconnectTimer = undefined;
    const current = secure ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    socket = current;
    inFlight = [];
    head = 0;
    current.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: options.protocolVersion });
    let heard = true;
    // TCP, TLS and CONNACK within a bound, as mqtt.js's connectTimeout: a broker that takes the
    // connection and never answers (hung, or a TLS port spoken to in plain) is a failed connect,
    // not a wait of two keepalive periods.
    const handshake = setTimeout(() => current.destroy(), options.connectTimeoutMs);
    handshake.unref();
    parser.on('packet', (packet: Packet) => {
      heard = true;
      if (packet.cmd === 'connack') clearTimeout(handshake);
      handle(packet, current);
    });
    parser.on('error', (err: Error) => {
      logger.warn({ err: err.message, clientId: options.clientId }, 'malformed packet from the broker; reconnecting');
      current.destroy();
    });
    current.once(secure ? 'secureConnect' : 'connect', () => {
      write(connectPacket());
      pingTimer = setInterval(() => {
        // Nothing heard for a whole period after the last ping: the connection is dead.
        if (!heard) return current.destroy();
        heard = false;
        write({ cmd: 'pingreq' });
      }, options.keepaliveS * 1000);
      pingTimer.unref();
    });
    current.on('data', (chunk: Buffer) => parser.parse(chunk));
    current.on('error', (err) => logger.warn({ err: err.message, clientId: options.clientId }, 'MQTT consumer connection error'));
    current.on('close', () => {
      clearTimeout(handshake);
      clearInterval(pingTimer);
      if (socket === current) socket = undefined;
      isConnected = false;
      if (stopping) return;
      if (firstConnect) {
        firstConnect.reject(new Error(`could not connect to ${options.url}`));
        firstConnect = undefined;
        stopping = true;
        return;
      }
      const jitter = 0.8 + Math.random() * 0.4;
      reconnectTimer = setTimeout(open, reconnectDelay * jitter);
      reconnectDelay = Math.min(options.reconnectMaxMs, reconnectDelay * 2);
    });
  }

  return {
    start() {
      stopping = false;
      return new Promise((resolve, reject) => {
        firstConnect = { resolve, reject };
        open();
      });
    },
    stop: () => close({ cmd: 'disconnect' }),
    async leave({ signal, keepOlderSessions } = {}) {
      if (keepOlderSessions && sessionFoundAtStart) return close({ cmd: 'disconnect' });
      const current = socket;
      if (!current || !isConnected) {
        await close({ cmd: 'disconnect' });
        throw new Error(`${options.clientId} did not leave: not connected to the broker; its session is kept`);
      }
      const marker = randomUUID();
      let aborted: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          leaving = { marker, drained: resolve };
          aborted = () => reject(new Error(`${options.clientId} did not leave: what its session held was not settled in time; the session is kept`));
          if (signal?.aborted) return aborted();
          signal?.addEventListener('abort', aborted, { once: true });
          current.once('close', () => reject(new Error(`${options.clientId} did not leave: the connection closed while leaving; the session is kept`)));
          request({ cmd: 'unsubscribe', messageId: 0, unsubscriptions: options.filters })
            .then(() => request({ cmd: 'subscribe', messageId: 0, subscriptions: [{ topic: drainedTopic, qos: 1 }] }))
            .then((answer) => {
              // Refused (an ACL without `fieldhook/#`), the marker would never come back.
              const refused = refusals(answer as ISubackPacket);
              if (refused.length > 0) {
                return reject(new Error(`${options.clientId} did not leave: the broker refused a subscription to ${drainedTopic} (${refused.join(', ')}); the session is kept`));
              }
              write({ cmd: 'publish', topic: drainedTopic, payload: marker, qos: 1, messageId: packetId(), retain: false, dup: false });
            }, reject);
        });
      } catch (err) {
        leaving = undefined;
        await close({ cmd: 'disconnect' });
        throw err;
      } finally {
        if (aborted) signal?.removeEventListener('abort', aborted);
      }
      if (options.protocolVersion === 5) {
        // Allowed because CONNECT set a non-zero expiry (MQTT 5 §3.14.2.2.2): the session ends now.
        await close({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
      } else {
        // 3.1.1 keeps an unsubscribed session (it receives nothing more); a clean connection discards it.
        await close({ cmd: 'disconnect' });
        const login = { ...(options.username !== undefined ? { username: options.username } : {}), ...(options.password !== undefined ? { password: options.password } : {}) };
        await discardSession({ url: options.url, protocolVersion: 4, sharedSubscriptions: true, ...login }, options.clientId);
      }
    },
    connected: () => isConnected,
    publish(topic, payload) {
      if (isConnected) write({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
    },
  };
}
