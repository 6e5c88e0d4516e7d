import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { fromChirpStack, fromTheThingsStack } from '../adapters/lorawan.js';
import { fromSenml } from '../adapters/senml.js';
import type { DeviceWithSecret } from '../../registry/device.js';
import type { Authenticator, SignatureHeaders } from '../auth.js';
import { Errors } from '../../shared/error-catalog.js';
import type { IngestService } from '../ingest.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: signatures are computed over these bytes. */
    rawBody?: Buffer;
    credential?: DeviceWithSecret;
    /** The signature headers of a signed request (its credential is checked once the body is read). */
    signature?: SignatureHeaders;
  }
}

export interface ReadingsRoutesOptions {
  ingest: IngestService;
  auth: Authenticator;
  /** Largest request body, bytes (413 above). */
  bodyLimitBytes: number;
  /** Most readings in one request (413 above). */
  maxBatchItems: number;
  /** Requests per device per minute; 0 turns the limit off. */
  rateLimitPerMinute: number;
}

const BEARER = /^Bearer\s+(\S+)$/i;
/** An Authorization header that presents a Bearer secret, well-formed or not. */
const BEARER_PRESENTED = /^\s*Bearer\s+\S/i;
const DEVICE_HEADER = 'fieldhook-device';

/** Media types of JSON bodies; a route lists the ones it takes. */
export const JSON_MEDIA_TYPE = 'application/json';
export const SENML_MEDIA_TYPE = 'application/senml+json';

function signatureHeaders(request: FastifyRequest): SignatureHeaders | undefined {
  const h = request.headers;
  if (h['webhook-signature'] === undefined && h['webhook-id'] === undefined && h['webhook-timestamp'] === undefined) return undefined;
  return {
    'webhook-id': String(h['webhook-id'] ?? ''),
    'webhook-timestamp': String(h['webhook-timestamp'] ?? ''),
    'webhook-signature': String(h['webhook-signature'] ?? ''),
  };
}

/** The media type of the request without its parameters, lower case ('' when there is none). */
export function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The credential a request presents, decided from its headers alone:
 * - signature headers (any of `webhook-id`, `webhook-timestamp`, `webhook-signature`): a signed
 *   request; the device must be named by `fieldhook-device`, and a Bearer secret next to the
 *   signature is ambiguous. Any other Authorization value is not a credential and is ignored;
 * - otherwise `Authorization: Bearer <secret>` (exactly that), else no or a malformed credential.
 */
function presentedCredential(request: FastifyRequest): { bearer: string } | { deviceId: string; signature: SignatureHeaders } {
  const authorization = request.headers.authorization;
  const signature = signatureHeaders(request);
  if (signature) {
    if (authorization !== undefined && BEARER_PRESENTED.test(authorization)) throw Errors.authAmbiguous();
    const deviceId = request.headers[DEVICE_HEADER];
    if (typeof deviceId !== 'string' || deviceId === '') throw Errors.authSignedDeviceMissing();
    return { deviceId, signature };
  }
  if (authorization === undefined) throw Errors.authMissing();
  const secret = BEARER.exec(authorization)?.[1];
  if (secret === undefined) throw Errors.authMalformed();
  return { bearer: secret };
}

/**
 * `POST /v1/readings`: one reading or an array; `POST /v1/uplinks/chirpstack|ttn`: a LoRaWAN
 * network server's uplink. 202 = every listed reading is on disk; refused items come back with
 * their index and code; all refused = 400.
 */
export const readingsRoutes: FastifyPluginAsync<ReadingsRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { ingest, auth } = opts;

  // Only the media types the routes document: every other parser (Fastify's text/plain among them)
  // is removed from this plugin's scope, and each route checks its own list before the body is read.
  app.removeAllContentTypeParsers();
  // Keep the raw bytes: HMAC signatures are over the body exactly as sent. SenML packs are JSON
  // too; the route maps them onto native readings.
  app.addContentTypeParser([JSON_MEDIA_TYPE, SENML_MEDIA_TYPE], { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      done(Errors.httpMalformedJson(), undefined);
    }
  });

  if (opts.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: false,
      hook: 'preHandler',
      max: opts.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.credential?.id ?? request.ip,
      errorResponseBuilder: (_request, context) =>
        Errors.ingestRateLimited(`At most ${context.max} requests per minute per device`, {
          retryAfterS: Math.ceil(context.ttl / 1000),
        }),
    });
  }

  /**
   * Cheap refusals first, before a byte of the body is read, so that a client without a usable
   * credential cannot hold a connection by sending its body slowly: pressure, the credential
   * (a Bearer secret in full; for a signed request the headers, the timestamp and the device named
   * by `fieldhook-device`, which must exist and be enabled), the media type, the source network.
   * The signature itself needs the body, so it is checked once that is read.
   */
  const authenticated = (mediaTypes: readonly string[]) => ({
    bodyLimit: opts.bodyLimitBytes,
    config: opts.rateLimitPerMinute > 0 ? { rateLimit: {} } : {},
    onRequest: async (request: FastifyRequest) => {
      ingest.assertCapacity();
      const presented = presentedCredential(request);
      if ('bearer' in presented) {
        request.credential = await auth.bearer(presented.bearer);
      } else {
        request.credential = await auth.signedDevice(presented.deviceId, presented.signature);
        request.signature = presented.signature;
      }
      if (!mediaTypes.includes(mediaTypeOf(request))) {
        throw Errors.httpUnsupportedMediaType(`Send ${mediaTypes.join(' or ')}`, { accepted: [...mediaTypes] });
      }
      await auth.checkNetwork(request.credential, request.ip);
    },
    preValidation: async (request: FastifyRequest) => {
      if (request.signature) auth.verifySignature(request.credential!, request.signature, request.rawBody ?? Buffer.alloc(0));
    },
  });

  /** Ingest untrusted items for the request's credential: 202 with the outcome, or the error for "all refused". */
  async function ingestItems(request: FastifyRequest, reply: FastifyReply, items: unknown[]) {
    if (items.length === 0) throw Errors.ingestEmptyBatch();
    if (items.length > opts.maxBatchItems) {
      throw Errors.ingestBatchTooLarge(`At most ${opts.maxBatchItems} readings per request`, { maxBatchItems: opts.maxBatchItems });
    }
    // Every signed request is accepted once per webhook-id, whatever else it carries.
    const signedId = request.signature?.['webhook-id'];
    const outcome = await ingest.ingest({
      credential: request.credential!,
      items,
      correlationId: request.id,
      protocol: 'http',
      ...(signedId ? { onceKey: signedId } : {}),
    });
    if (outcome.accepted + outcome.duplicates === 0 && outcome.refused.length > 0) {
      const forbidden = outcome.refused.every((r) => r.code === Errors.authDeviceForbidden.code);
      const error = forbidden ? Errors.authDeviceForbidden : Errors.ingestAllRefused;
      throw error(undefined, { refused: outcome.refused });
    }
    return reply.code(202).send(outcome);
  }

  app.post('/v1/readings', authenticated([JSON_MEDIA_TYPE, SENML_MEDIA_TYPE]), async (request, reply) => {
    if (mediaTypeOf(request) === SENML_MEDIA_TYPE) return ingestItems(request, reply, fromSenml(request.body));
    return ingestItems(request, reply, Array.isArray(request.body) ? request.body : [request.body]);
  });

  // LoRaWAN network servers post their uplinks here with a gateway credential (see adapters/lorawan.ts).
  app.post<{ Querystring: { event?: string } }>('/v1/uplinks/chirpstack', authenticated([JSON_MEDIA_TYPE]), async (request, reply) => {
    // ChirpStack posts every event type to one URL; only uplinks carry readings.
    if (request.query.event !== undefined && request.query.event !== 'up') return reply.code(204).send();
    return ingestItems(request, reply, [fromChirpStack(request.body)]);
  });
  app.post('/v1/uplinks/ttn', authenticated([JSON_MEDIA_TYPE]), async (request, reply) => ingestItems(request, reply, [fromTheThingsStack(request.body)]));
};
