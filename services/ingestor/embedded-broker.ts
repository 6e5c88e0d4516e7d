import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { BusPrincipal } from '../shared/bus/index.js';
import type { DeviceWithSecret } from '../registry/device.js';
import { secretsEqual } from '../registry/secrets.js';
import { Errors } from '../shared/error-catalog.js';
import { listenError } from '../shared/listen-errors.js';
import type { Logger } from '../shared/logger.js';
import { deviceErrorsTopic, deviceReadingsTopic } from '../shared/bus/topics.js';
import type { Authenticator } from './auth.js';
import type { CredentialCache } from './credential-cache.js';
import type { IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import { createMqttBatcher, type MqttBatcher } from './mqtt-batch.js';
import { MQTT_PACKET_OVERHEAD_BYTES, payloadTooLarge, type MqttMessageLimits, type MqttRefusal } from './mqtt-message.js';
import { readMqttNumbersInPlace } from './mqtt-packet-reads.js';
import { guardConnection } from './mqtt-size-guard.js';

/** Where fieldhook's own parts reach the broker. */
const LOOPBACK = '127.0.0.1';

/**
 * Usernames and client ids that begin with this belong to the process's own parts: a device login
 * never gets one (the device registry may hold such an id; that device cannot use MQTT).
 */
export const RESERVED_PREFIX = 'fieldhook-';

/** The login of one internal part (bus publisher, predictor, dispatcher) on the embedded broker. */
export const internalUsername = (principal: BusPrincipal) => `${RESERVED_PREFIX}internal-${principal}`;

/**
 * A device topic besides readings that the broker takes as an ingest point (the valve
 * controllers' irrigation reports): the PUBACK waits for `handle`, refusals go to the errors topic.
 */
export interface DeviceTopicHandler {
  /** The device a topic belongs to, or undefined when the topic is not this handler's. */
  deviceOf(topic: string): string | undefined;
  handle(device: DeviceWithSecret, payload: Buffer): Promise<{ code: string; message: string }[]>;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  tls?: { port: number; options: TlsOptions };
  /** `INGEST_BODY_LIMIT_BYTES` and `INGEST_MAX_BATCH`: the same limits as over HTTP. */
  limits: MqttMessageLimits;
}

export interface EmbeddedBroker {
  listen(): Promise<void>;
  close(): Promise<void>;
  /** mqtt:// URL for in-process clients. */
  internalUrl(): string;
  /** The login of one internal part: its own username and password. */
  internalCredentials(principal: BusPrincipal): { username: string; password: string };
  /** Publish from inside the process (QoS 1): no socket, no client, same delivery to subscribers. */
  publish(topic: string, payload: string): Promise<void>;
}

const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_LOGIN = 4;
const NOT_AUTHORIZED = 5;

const PRINCIPALS: readonly BusPrincipal[] = ['bus', 'predictor', 'dispatcher'];

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

type PublishFromClient = (packet: object, client: Client | null, done: (err?: Error) => void) => void;

/**
 * A device's readings message is stored by the ingest path, not delivered by the broker: nothing
 * subscribes to a device's readings topic here (the readings reach the bus from the spool), so
 * aedes' publish pipeline after the PUBACK — a packet copy, the retained store, the offline queues'
 * and the live subscriptions' topic matches, a promise or two, the `publish` event — was per
 * message work with no result. aedes calls `publish(packet, client, done)` once a client's PUBLISH
 * is authorised and acknowledged; for the packets the ingest path took (`stored`) it ends there.
 * Everything else (internal parts' messages, the errors topic, other device topics) is published
 * as before.
 */
function endStoredAtBroker(broker: Aedes, stored: (packet: object, client: Client) => boolean): void {
  const publish = (broker.publish as unknown as PublishFromClient).bind(broker);
  const ends: PublishFromClient = (packet, client, done) => (client !== null && stored(packet, client) ? done() : publish(packet, client, done));
  (broker as unknown as { publish: PublishFromClient }).publish = ends;
}

/**
 * The broker `fieldhook start` embeds when no external one is configured (aedes, MQTT 3.1.1).
 * Devices log in with id and secret and may publish only to their own readings topic. Here the
 * broker itself is the ingest point: the PUBACK waits until the reading is in the spool, so a
 * device's acknowledgement means the same as over HTTP.
 *
 * Client ids are bound to logins, because aedes hands a session to whoever connects with its
 * client id: a device's client id is its device id, `<device id>/<anything>`, or empty with a clean
 * session (the broker assigns one); ids beginning with `fieldhook-` and those the internal parts used are refused to
 * devices at CONNECT (identifier rejected), before any session is taken over. Each internal part
 * has its own login. Messages are capped before the parser (see `mqtt-size-guard.ts`).
 */
export function createEmbeddedBroker(
  deps: {
    auth: Authenticator;
    /** The registry's cache, to see a login revoked while its connection is open. */
    devices: Pick<CredentialCache, 'peek'>;
    ingest: IngestService;
    logger: Logger;
    metrics: IngestMetrics;
    deviceTopics?: readonly DeviceTopicHandler[];
    /** Appends the messages of one event-loop turn together; one of the broker's own when not given. */
    batcher?: MqttBatcher;
  },
  options: EmbeddedBrokerOptions,
): EmbeddedBroker {
  readMqttNumbersInPlace();
  const { auth, ingest, logger, metrics } = deps;
  const { limits } = options;
  const batcher = deps.batcher ?? createMqttBatcher({ ingest, metrics, limits, logger });
  const internalPasswords = new Map(PRINCIPALS.map((p) => [internalUsername(p), randomBytes(24).toString('base64url')]));
  const credentials = new WeakMap<Client, DeviceWithSecret | 'internal'>();
  /** Clients that sent an empty client id with a clean session: aedes assigned them a fresh one. */
  const assignedIds = new WeakSet<Client>();
  /** Client ids the internal parts have connected with: never a device's. */
  const internalClientIds = new Set<string>();
  // Stands in for an oversized payload (see the guard); unguessable, so no device can send it.
  const oversizedMark = `\u0000fieldhook-oversized:${randomBytes(16).toString('hex')}:`;
  const oversizedBytes = (payload: Buffer | string): number | undefined => {
    // Every stand-in begins with a NUL byte, which no JSON payload does: most payloads are told apart without a copy.
    if (Buffer.isBuffer(payload) ? payload[0] !== 0 : !payload.startsWith('\u0000')) return undefined;
    const text = Buffer.isBuffer(payload) && payload.length < 128 ? payload.toString('latin1') : typeof payload === 'string' ? payload : '';
    return text.startsWith(oversizedMark) ? Number(text.slice(oversizedMark.length)) : undefined;
  };
  /**
   * Each device connection's readings topic: a message there is the ingest path's (publishAs), and
   * the broker neither keeps nor forwards it. Kept per connection rather than per message: a weak
   * collection entry per message in flight is work for every garbage collection meanwhile.
   */
  const readingsTopics = new WeakMap<Client, string>();
  const stored = (packet: { topic?: unknown }, client: Client) => packet.topic === readingsTopics.get(client);
  /** Messages a device published where it may not (rare): acknowledged and refused, never forwarded. */
  const forbidden = new WeakSet<object>();
  let aedes: Aedes | undefined;
  const servers: Server[] = [];
  let boundPort = options.port;

  /** Why a device may not connect with this client id, or undefined. */
  function clientIdRefusal(client: Client, device: DeviceWithSecret): string | undefined {
    if (/[/+#]/.test(device.id)) return `device id ${device.id} cannot be used over MQTT`;
    if (assignedIds.has(client)) return undefined;
    if (client.id.startsWith(RESERVED_PREFIX) || internalClientIds.has(client.id)) return `client id ${client.id} is reserved`;
    if (client.id === device.id || client.id.startsWith(`${device.id}/`)) return undefined;
    return `client id must be ${device.id} or begin with ${device.id}/`;
  }

  function publishRefusals(device: DeviceWithSecret, refused: MqttRefusal[]): void {
    if (refused.length === 0) return;
    aedes?.publish(
      // QoS 1: a device with a persistent session that is asleep gets its refusals when it is back.
      { cmd: 'publish', topic: deviceErrorsTopic(device.id), payload: JSON.stringify({ refused }), qos: 1, retain: false, dup: false },
      () => undefined,
    );
  }

  /**
   * aedes handles every PUBLISH of one socket read at once and sends each PUBACK when its `done`
   * is called; the batcher settles a turn's messages together, in the order they came, once their
   * one commit is durable: many messages per connection share a commit, and the PUBACKs keep
   * their order.
   */
  function ingestPublish(client: Client, device: DeviceWithSecret, payload: Buffer, done: (err: Error | null) => void): void {
    const oversized = oversizedBytes(payload);
    if (oversized !== undefined) {
      publishRefusals(device, payloadTooLarge(metrics, oversized, limits));
      return done(null);
    }
    batcher.submit(device, payload, (err, refused) => {
      if (err) {
        logger.error({ err, device: device.id }, 'MQTT ingest failed: not acknowledged');
        return done(err);
      }
      publishRefusals(device, refused);
      corkUntilNextTurn(client);
      done(null);
    });
  }

  const corked = new Set<Writable>();
  /**
   * aedes writes each PUBACK on its own (three chunks per packet); a commit settles many messages
   * of a connection at once, so the connection is corked until the next turn and they leave in
   * one socket write (see guardConnection).
   */
  function corkUntilNextTurn(client: Client): void {
    const connection = client.conn as Writable;
    if (corked.has(connection)) return;
    connection.cork();
    if (corked.size === 0) {
      setImmediate(() => {
        for (const c of corked) c.uncork();
        corked.clear();
      });
    }
    corked.add(connection);
  }

  async function start(): Promise<Aedes> {
    const broker = await Aedes.createBroker({
      preConnect(client, packet, done) {
        // An empty id with a clean session gets a fresh one from aedes; without, it is refused below.
        if (!packet.clientId && packet.clean) assignedIds.add(client);
        done(null, true);
      },
      authenticate(client, username, password, done) {
        if (username?.startsWith(RESERVED_PREFIX)) {
          const expected = internalPasswords.get(username);
          const ok = expected !== undefined && secretsEqual(password?.toString() ?? '', expected);
          if (ok) {
            credentials.set(client, 'internal');
            internalClientIds.add(client.id);
          }
          return done(ok ? null : authError('bad login', BAD_LOGIN), ok);
        }
        const remote = (client.conn as { remoteAddress?: string }).remoteAddress;
        auth
          .password(username ?? '', password?.toString() ?? '')
          .then(async (device) => {
            await auth.checkNetwork(device, remote);
            // Checked here, before aedes registers the client: a refused id takes over no session.
            const refusal = clientIdRefusal(client, device);
            if (refusal) throw Object.assign(new Error(refusal), { returnCode: IDENTIFIER_REJECTED });
            credentials.set(client, device);
            readingsTopics.set(client, deviceReadingsTopic(device.id));
            done(null, true);
          })
          .catch((err: Error) => {
            const code = (err as { code?: string }).code;
            // The registry unreachable is ours to fix, not the device's login: "server unavailable"
            // has a device retry, where "bad user name or password" has many give up for good.
            const status = (err as { statusCode?: number }).statusCode ?? 0;
            const returnCode =
              (err as { returnCode?: number }).returnCode ?? (code === Errors.authNetworkForbidden.code ? NOT_AUTHORIZED : status >= 500 ? SERVER_UNAVAILABLE : BAD_LOGIN);
            logger.info({ device: username, clientId: client.id, code, reason: err.message }, 'MQTT login refused');
            done(authError(err.message, returnCode), false);
          });
      },
      authorizePublish(client, packet, done) {
        const who = client ? credentials.get(client) : 'internal';
        if (who === 'internal') return done(null);
        if (who && client) {
          // The login was checked at CONNECT; a secret rotated or a device disabled since must stop
          // working on connections already open too, not only on the next one.
          const standing = loginStanding(who);
          if (standing === false) return loginGone(client, who, done);
          if (standing === undefined) {
            auth.password(who.id, who.secret).then(
              () => publishAs(client, who, packet, done),
              (err: unknown) => {
                if (REVOKED.has((err as { code?: string }).code ?? '')) return loginGone(client, who, done);
                // The registry could not be read (a database away for a moment): not a revoked
                // login, so the one checked at CONNECT stands and the reading goes to the spool.
                logger.warn({ err, device: who.id }, 'MQTT login not checked again: the registry could not be read; the login of CONNECT stands');
                publishAs(client, who, packet, done);
              },
            );
            return;
          }
        }
        publishAs(client, who, packet, done);
      },
      authorizeForward(_client, packet) {
        return oversizedBytes(packet.payload) === undefined ? packet : undefined;
      },
      authorizeSubscribe(client, subscription, done) {
        const who = credentials.get(client);
        if (who === 'internal') return done(null, subscription);
        if (who && subscription.topic === deviceErrorsTopic(who.id)) return done(null, subscription);
        // Refused in the SUBACK (0x80, MQTT 3.1.1 §3.9.3): the device learns which filter, and keeps its connection.
        logger.info({ device: who ? who.id : undefined, clientId: client.id, filter: subscription.topic.slice(0, 200) }, 'MQTT subscription refused: devices may subscribe only to their own errors topic');
        done(null, null);
      },
    });
    endStoredAtBroker(broker, (packet, client) => stored(packet, client) || forbidden.delete(packet));
    return broker;
  }

  /** What the registry answers for a login that no longer holds (anything else is its own failure). */
  const REVOKED: ReadonlySet<string> = new Set([Errors.authInvalid.code, Errors.deviceDisabled.code, Errors.deviceUnknown.code]);

  /**
   * Whether a device's login still holds, from the registry's cache without waiting: false once it
   * was removed, disabled or given a new secret; undefined when the cache does not hold it now.
   */
  function loginStanding(device: DeviceWithSecret): boolean | undefined {
    const now = deps.devices.peek(device.id);
    if (now === undefined) return undefined;
    return now !== null && now.enabled && now.secret === device.secret;
  }

  /** Close a connection whose login no longer holds: not acknowledged, nothing stored; a reconnect is checked anew. */
  function loginGone(client: Client, device: DeviceWithSecret, done: (err: Error | null) => void): void {
    credentials.delete(client);
    readingsTopics.delete(client);
    logger.info({ device: device.id, clientId: client.id }, 'MQTT login no longer valid (secret rotated, device disabled or removed): connection closed');
    done(Errors.authInvalid());
  }

  /** Where a device's message goes: its readings to ingest, another device topic (irrigations, forecasts) to its handler. */
  function publishAs(client: Client | null, who: DeviceWithSecret | undefined, packet: PublishPacket, done: (err?: Error | null) => void): void {
    // Nearly every message is a device's readings: told apart by one comparison, before any topic is parsed.
    if (who && client && stored(packet, client)) {
      // A readings message ends here: stored (or refused), never kept or forwarded by the broker.
      return ingestPublish(client, who, packet.payload as Buffer, done);
    }
    const other = who ? deps.deviceTopics?.find((h) => h.deviceOf(packet.topic) === who.id) : undefined;
    if (other && who) {
      // Like readings: stored (or refused) here, never kept by the broker.
      packet.retain = false;
      const oversized = oversizedBytes(packet.payload);
      const handled =
        oversized === undefined
          ? other.handle(who, packet.payload as Buffer)
          : Promise.resolve([{ code: Errors.ingestPayloadTooLarge.code, message: `Payload of ${oversized} bytes is larger than ${limits.maxPayloadBytes} bytes` }]);
      handled.then(
        (refused) => {
          publishRefusals(who, refused as MqttRefusal[]);
          done(null);
        },
        (err: unknown) => {
          logger.error({ err, device: who.id, topic: packet.topic }, 'MQTT device message not stored: not acknowledged');
          done(err as Error);
        },
      );
      return;
    }
    if (!who || !client) return done(new Error('client may publish only to its own readings topic'));
    // Acknowledged and dropped, with the reason on the device's errors topic: closing the connection
    // told the device nothing, and a client that resends its unacknowledged messages on reconnect
    // would be closed again, forever.
    forbidden.add(packet);
    const topic = packet.topic.slice(0, 200);
    logger.info({ device: who.id, clientId: client.id, topic }, 'MQTT message on a topic the device may not publish to: refused, not forwarded');
    metrics.refused.inc({ code: Errors.ingestTopicForbidden.code });
    publishRefusals(who, [{ code: Errors.ingestTopicForbidden.code, message: `${who.id} may not publish to ${topic}` }]);
    done(null);
  }

  function listenOn(server: Server, port: number, host: string, setting: string): Promise<number> {
    const settings = { port: setting, host: 'FIELDHOOK_MQTT_LISTEN_HOST' };
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(listenError(err, host, port, settings)));
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  const guard = {
    maxPayloadBytes: limits.maxPayloadBytes,
    maxControlPacketBytes: limits.maxPayloadBytes + MQTT_PACKET_OVERHEAD_BYTES,
    oversized: (bytes: number) => Buffer.from(`${oversizedMark}${bytes}`, 'latin1'),
  };
  // Every connection reaches aedes through the size guard: no packet is buffered beyond the limit.
  const handle = (socket: Socket): void => {
    if (!aedes) {
      socket.destroy();
      return;
    }
    aedes.handle(guardConnection(socket, guard) as unknown as Socket);
  };

  return {
    async listen() {
      aedes = await start();
      const plain = createServer(handle);
      servers.push(plain);
      // With TLS, devices log in over TLS only: the plain listener stays for fieldhook's own parts
      // (`internalUrl`) on loopback, and a device's secret (its HTTPS Bearer too) never crosses
      // the network in clear.
      boundPort = await listenOn(plain, options.port, options.tls ? LOOPBACK : options.host, 'FIELDHOOK_MQTT_LISTEN_PORT');
      if (options.tls) {
        const secure = createTlsServer(options.tls.options, handle);
        servers.push(secure);
        await listenOn(secure, options.tls.port, options.host, 'FIELDHOOK_MQTT_TLS_PORT');
      }
      logger.info({ port: boundPort, tls: options.tls?.port }, 'embedded MQTT broker listening');
    },
    async close() {
      // aedes first: it disconnects the clients, which lets the servers finish closing.
      await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
      await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    },
    internalUrl: () => `mqtt://${LOOPBACK}:${boundPort}`,
    publish(topic, payload) {
      return new Promise((resolve, reject) => {
        if (!aedes) return reject(new Error('embedded broker is not listening'));
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
      });
    },
    internalCredentials: (principal) => ({ username: internalUsername(principal), password: internalPasswords.get(internalUsername(principal))! }),
  };
}
