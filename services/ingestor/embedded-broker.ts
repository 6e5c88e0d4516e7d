import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { DeviceWithSecret } from '../registry/device.js';
import { secretsEqual } from '../registry/secrets.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { deviceErrorsTopic, deviceOfTopic } from '../shared/bus/topics.js';
import type { Authenticator } from './auth.js';
import type { IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import { ingestMqttMessage } from './mqtt-message.js';

/** The login the process's own parts (bus publisher, predictor, dispatcher) use on the embedded broker. */
export const INTERNAL_USERNAME = 'fieldhook-internal';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  tls?: { port: number; options: TlsOptions };
}

export interface EmbeddedBroker {
  listen(): Promise<void>;
  close(): Promise<void>;
  /** mqtt:// URL and credentials for in-process clients. */
  internalUrl(): string;
  internalCredentials(): { username: string; password: string };
  /** Publish from inside the process (QoS 1): no socket, no client, same delivery to subscribers. */
  publish(topic: string, payload: string): Promise<void>;
}

const NOT_AUTHORIZED = 5;
const BAD_LOGIN = 4;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * The broker `fieldhook start` embeds when no external one is configured (aedes, MQTT 3.1.1).
 * Devices log in with id and secret and may publish only to their own readings topic. Here the
 * broker itself is the ingest point: the PUBACK waits until the reading is in the spool, so a
 * device's acknowledgement means the same as over HTTP.
 */
export function createEmbeddedBroker(
  deps: { auth: Authenticator; ingest: IngestService; logger: Logger; metrics: IngestMetrics },
  options: EmbeddedBrokerOptions,
): EmbeddedBroker {
  const { auth, ingest, logger, metrics } = deps;
  const internalPassword = randomBytes(24).toString('base64url');
  const credentials = new WeakMap<Client, DeviceWithSecret | 'internal'>();
  let aedes: Aedes | undefined;
  const servers: Server[] = [];
  let boundPort = options.port;

  async function ingestPublish(device: DeviceWithSecret, payload: Buffer): Promise<void> {
    const refused = await ingestMqttMessage({ ingest, metrics }, device, payload);
    if (refused.length > 0) {
      aedes?.publish(
        { cmd: 'publish', topic: deviceErrorsTopic(device.id), payload: JSON.stringify({ refused }), qos: 0, retain: false, dup: false },
        () => undefined,
      );
    }
  }

  async function start(): Promise<Aedes> {
    const broker = await Aedes.createBroker({
      authenticate(client, username, password, done) {
        if (username === INTERNAL_USERNAME) {
          const ok = secretsEqual(password?.toString() ?? '', internalPassword);
          if (ok) credentials.set(client, 'internal');
          return done(ok ? null : authError('bad login', BAD_LOGIN), ok);
        }
        const remote = (client.conn as { remoteAddress?: string }).remoteAddress;
        auth
          .password(username ?? '', password?.toString() ?? '')
          .then(async (device) => {
            await auth.checkNetwork(device, remote);
            credentials.set(client, device);
            done(null, true);
          })
          .catch((err: Error) => {
            logger.info({ device: username, code: (err as { code?: string }).code }, 'MQTT login refused');
            done(authError(err.message, (err as { code?: string }).code === Errors.authNetworkForbidden.code ? NOT_AUTHORIZED : BAD_LOGIN), false);
          });
      },
      authorizePublish(client, packet, done) {
        const who = client ? credentials.get(client) : 'internal';
        if (who === 'internal') return done(null);
        if (!who || !client || deviceOfTopic(packet.topic) !== who.id) {
          return done(new Error(`${who ? who.id : 'client'} may publish only to its own readings topic`));
        }
        ingestPublish(who, packet.payload as Buffer).then(
          () => done(null),
          (err: unknown) => {
            logger.error({ err, device: who.id }, 'MQTT ingest failed: not acknowledged');
            done(err as Error);
          },
        );
      },
      authorizeSubscribe(client, subscription, done) {
        const who = credentials.get(client);
        if (who === 'internal') return done(null, subscription);
        if (who && subscription.topic === deviceErrorsTopic(who.id)) return done(null, subscription);
        done(new Error('devices may subscribe only to their own errors topic'));
      },
    });
    return broker;
  }

  function listenOn(server: Server, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  return {
    async listen() {
      aedes = await start();
      const plain = createServer(aedes.handle);
      servers.push(plain);
      boundPort = await listenOn(plain, options.port, options.host);
      if (options.tls) {
        const secure = createTlsServer(options.tls.options, aedes.handle);
        servers.push(secure);
        await listenOn(secure, options.tls.port, options.host);
      }
      logger.info({ port: boundPort, tls: options.tls?.port }, 'embedded MQTT broker listening');
    },
    async close() {
      // aedes first: it disconnects the clients, which lets the servers finish closing.
      await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
      await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    },
    internalUrl: () => `mqtt://127.0.0.1:${boundPort}`,
    publish(topic, payload) {
      return new Promise((resolve, reject) => {
        if (!aedes) return reject(new Error('embedded broker is not listening'));
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
      });
    },
    internalCredentials: () => ({ username: INTERNAL_USERNAME, password: internalPassword }),
  };
}
