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

function signatureHeaders(request: FastifyRequest): SignatureHeaders | undefined {
  const h = request.headers;
  if (!h['webhook-signature'] && !h['webhook-id'] && !h['webhook-timestamp']) return undefined;
  return {
    'webhook-id': String(h['webhook-id'] ?? ''),
    'webhook-timestamp': String(h['webhook-timestamp'] ?? ''),
    'webhook-signature': String(h['webhook-signature'] ?? ''),
  };
}

/** The device a signed request speaks for: the `fieldhook-device` header, else the body's only device. */
function signedDeviceId(request: FastifyRequest): string {
  const header = request.headers['fieldhook-device'];
  if (typeof header === 'string' && header) return header;
  const items = Array.isArray(request.body) ? request.body : [request.body];
  const named = new Set(items.map((i) => (i as { device?: unknown } | null)?.device));
  const [only] = named;
  if (named.size === 1 && typeof only === 'string') return only;
  throw Errors.authMissing('A signed request must name its device in the fieldhook-device header');
}

/**
 * `POST /v1/readings`: one reading or an array; `POST /v1/uplinks/chirpstack|ttn`: a LoRaWAN
 * network server's uplink. 202 = every listed reading is on disk; refused items come back with
 * their index and code; all refused = 400.
 */
export const readingsRoutes: FastifyPluginAsync<ReadingsRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { ingest, auth } = opts;

  // Keep the raw bytes: HMAC signatures are over the body exactly as sent. SenML packs are JSON
  // too; the route maps them onto native readings.
  app.addContentTypeParser(['application/json', 'application/senml+json'], { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (request, body, done) => {
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

  // Cheap refusals first, before the body is read: pressure, then a Bearer credential; a
  // signature needs the body, so it is checked once that is parsed.
  const authenticated = {
    bodyLimit: opts.bodyLimitBytes,
    config: opts.rateLimitPerMinute > 0 ? { rateLimit: {} } : {},
    onRequest: async (request: FastifyRequest) => {
      ingest.assertCapacity();
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (match) request.credential = await auth.bearer(match[1]!);
      else if (!signatureHeaders(request)) throw Errors.authMissing();
    },
    preValidation: async (request: FastifyRequest) => {
      if (!request.credential) {
        request.credential = await auth.signature(signedDeviceId(request), signatureHeaders(request)!, request.rawBody ?? Buffer.alloc(0));
      }
      await auth.checkNetwork(request.credential, request.ip);
    },
  };

  /** Ingest untrusted items for the request's credential: 202 with the outcome, or the error for "all refused". */
  async function ingestItems(request: FastifyRequest, reply: FastifyReply, items: unknown[]) {
    if (items.length === 0) throw Errors.ingestEmptyBatch();
    if (items.length > opts.maxBatchItems) {
      throw Errors.ingestBatchTooLarge(`At most ${opts.maxBatchItems} readings per request`, { maxBatchItems: opts.maxBatchItems });
    }
    const signedId = request.headers.authorization ? undefined : String(request.headers['webhook-id']);
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

  app.post('/v1/readings', authenticated, async (request, reply) => {
    if (request.headers['content-type']?.startsWith('application/senml+json')) return ingestItems(request, reply, fromSenml(request.body));
    return ingestItems(request, reply, Array.isArray(request.body) ? request.body : [request.body]);
  });

  // LoRaWAN network servers post their uplinks here with a gateway credential (see adapters/lorawan.ts).
  app.post<{ Querystring: { event?: string } }>('/v1/uplinks/chirpstack', authenticated, async (request, reply) => {
    // ChirpStack posts every event type to one URL; only uplinks carry readings.
    if (request.query.event !== undefined && request.query.event !== 'up') return reply.code(204).send();
    return ingestItems(request, reply, [fromChirpStack(request.body)]);
  });
  app.post('/v1/uplinks/ttn', authenticated, async (request, reply) => ingestItems(request, reply, [fromTheThingsStack(request.body)]));
};
