import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isSimulatedUplink, readChirpStack, readTheThingsStack, uplinkDevEui, type UplinkItem, type UplinkOptions } from '../adapters/lorawan.js';
import type { FieldRefusal } from '../profiles/profile.js';
import { DEFAULT_SENML_LIMITS, fromSenml } from '../adapters/senml.js';
import type { DeviceWithSecret } from '../../registry/device.js';
import type { Authenticator, SignatureHeaders } from '../auth.js';
import { Errors } from '../../shared/error-catalog.js';
import { ID_RULE } from '../../shared/ids.js';
import { toCatalogError } from '../../shared/http-errors.js';
import { code, type RouteDocumentation } from '../../shared/openapi.js';
import { CANONICAL_QUANTITIES, buildQuantityTable, type QuantityTable } from '../../shared/quantities.js';
import { API_TIME_SCHEMA, ISO_TIMESTAMP_PATTERN } from '../../shared/timestamps.js';
import type { IngestOutcome, IngestService } from '../ingest.js';
import type { ProfileSet } from '../profiles/load.js';
import { lazyChildLogger } from './lazy-logger.js';
import { lineProtocolRoutes } from './line-protocol-routes.js';

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
  /** The quantities readings may name (canonical and declared); line protocol fields map onto them. Default: the canonical ones. */
  quantities?: QuantityTable;
  /** Device profiles for LoRaWAN uplinks (docs/devices.md); none: decoded payloads use canonical names. */
  profiles?: ProfileSet;
  /** The profile a device names in the registry, by device id (its DevEUI for LoRaWAN nodes). */
  deviceProfileOf?: (device: string) => Promise<string | undefined>;
  /** Counts a request refused before its readings reach the ingest service (which counts its own). */
  refused?: (code: string) => void;
}

/** Refusals the ingest service counts itself: counted again here they would be counted twice. */
const COUNTED_BY_INGEST = new Set<string>([Errors.ingestAllRefused.code, Errors.ingestBackpressure.code, Errors.ingestSpoolFull.code, Errors.authReplayed.code]);

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

// The OpenAPI document of these routes. Fastify validates none of it: the handlers check every
// request in code (a signature is over the raw bytes; a refused reading comes back with its index
// and code), so these schemas live in `config.openapi`, which only the document reads.

/** A reading in the native format; a value outside its quantity's range is refused, like one too old or ahead of the clock. */
const readingSchema = {
  type: 'object',
  required: ['ts', 'values'],
  properties: {
    device: { type: 'string', pattern: `^${ID_RULE}$`, description: "The device; a device's own readings may omit it, a gateway names it." },
    id: { oneOf: [{ type: 'string', minLength: 1, maxLength: 128 }, { type: 'integer' }], description: 'De-duplication key.' },
    ts: {
      ...API_TIME_SCHEMA,
      description: 'ISO 8601 with a zone, or epoch milliseconds; within `INGEST_MAX_AGE_MS` before and `INGEST_MAX_FUTURE_MS` after the server clock.',
    },
    values: {
      type: 'object',
      minProperties: 1,
      description: 'Canonical quantities (and those `INGEST_EXTRA_QUANTITIES` declares) in their units.',
      properties: Object.fromEntries(Object.entries(CANONICAL_QUANTITIES).map(([name, q]) => [name, { type: 'number', minimum: q.min, maximum: q.max, description: q.unit }])),
    },
  },
} as const;

/** A SenML pack (RFC 8428): records of a name and a numeric value, base fields carried forward. */
const senmlSchema = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    properties: {
      bn: { type: 'string' },
      bt: { type: 'number' },
      bu: { type: 'string' },
      n: { type: 'string', maxLength: 64 },
      u: { type: 'string' },
      v: { type: 'number' },
      t: { type: 'number' },
    },
  },
} as const;

/** A LoRaWAN network server's uplink; its decoded payload is flattened onto quantities. */
const chirpstackSchema = {
  type: 'object',
  required: ['deviceInfo', 'deduplicationId', 'time', 'object'],
  properties: {
    deduplicationId: { type: 'string', minLength: 1 },
    time: { type: 'string', pattern: ISO_TIMESTAMP_PATTERN },
    deviceInfo: { type: 'object', required: ['devEui'], properties: { devEui: { type: 'string', minLength: 1 } } },
    object: { type: 'object', description: 'The decoded payload.' },
    rxInfo: { type: 'array', items: { type: 'object', properties: { rssi: { type: 'number' } } } },
  },
} as const;

const ttnSchema = {
  type: 'object',
  required: ['end_device_ids', 'uplink_message'],
  properties: {
    end_device_ids: { type: 'object', required: ['dev_eui'], properties: { dev_eui: { type: 'string', minLength: 1 } } },
    correlation_ids: { type: 'array', items: { type: 'string' } },
    received_at: { type: 'string', pattern: ISO_TIMESTAMP_PATTERN },
    simulated: { type: 'boolean', description: 'Set by The Things Stack on a simulated uplink: answered 204, not stored.' },
    uplink_message: {
      type: 'object',
      required: ['decoded_payload'],
      properties: {
        decoded_payload: { type: 'object' },
        received_at: { type: 'string', pattern: ISO_TIMESTAMP_PATTERN },
        f_cnt: { type: 'integer', minimum: 0 },
        rx_metadata: { type: 'array', items: { type: 'object', properties: { rssi: { type: 'number' } } } },
      },
    },
  },
} as const;

const outcomeSchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    duplicates: { type: 'integer' },
    refused: {
      type: 'array',
      items: { type: 'object', properties: { index: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } },
    },
  },
  additionalProperties: true,
} as const;

const INGEST_PROBLEMS: Readonly<Record<number, string>> = {
  400: `${code(Errors.ingestAllRefused)} (each reading in \`refused\`), ${code(Errors.ingestEmptyBatch)}, ${code(Errors.ingestBadEnvelope)}, ${code(Errors.ingestPayloadTooDeep)}, ${code(Errors.ingestNameTooLong)}, ${code(Errors.authAmbiguous)}.`,
  401: `${code(Errors.authMissing)}, ${code(Errors.authMalformed)}, ${code(Errors.authInvalid)}, ${code(Errors.authSignatureInvalid)}, ${code(Errors.authSignatureStale)}, ${code(Errors.authSignedDeviceMissing)}, ${code(Errors.deviceUnknown)}.`,
  403: `${code(Errors.deviceDisabled)}, ${code(Errors.authNetworkForbidden)}, ${code(Errors.authDeviceForbidden)}.`,
  409: `${code(Errors.authReplayed)}: this \`webhook-id\` was already accepted.`,
  413: `${code(Errors.httpBodyTooLarge)}, ${code(Errors.ingestBatchTooLarge)}.`,
  415: `${code(Errors.httpUnsupportedMediaType)}: not one of the media types of the route.`,
  429: `${code(Errors.ingestRateLimited)}, ${code(Errors.ingestBackpressure)}: retry after \`Retry-After\`.`,
  503: `${code(Errors.ingestSpoolFull)}: retry after \`Retry-After\`.`,
};

const accepted = { description: 'Every reading not refused is on disk; refused ones are listed with their index and code.', content: { [JSON_MEDIA_TYPE]: { schema: outcomeSchema } } };

function ingestDocs(body: NonNullable<RouteDocumentation['body']>, more: Partial<RouteDocumentation> = {}): { openapi: RouteDocumentation } {
  return { openapi: { body, ...more, responses: { 202: accepted, ...more.responses }, problems: INGEST_PROBLEMS } };
}

/** A request is authenticated by a Bearer secret or, instead, signed (docs/ingest.md); never both. */
const SIGNED_REQUESTS =
  'Instead of `Authorization: Bearer <secret>`, a request may be signed (Standard Webhooks): `webhook-id`, `webhook-timestamp`, ' +
  `\`webhook-signature\` and \`fieldhook-device\` naming the device; a request with both is refused (${code(Errors.authAmbiguous)}).`;

const ingestSchema = (summary: string) => ({ tags: ['ingest'], summary, description: SIGNED_REQUESTS, security: [{ deviceSecret: [] }] });

/**
 * `POST /v1/readings`: one reading or an array; `POST /v1/uplinks/chirpstack|ttn`: a LoRaWAN
 * network server's uplink. 202 = every listed reading is on disk; refused items come back with
 * their index and code; all refused = 400.
 */
export const readingsRoutes: FastifyPluginAsync<ReadingsRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { ingest, auth } = opts;

  // A device sending malformed JSON, or with a wrong secret, shows in the refusals by code as its
  // readings' refusals do.
  app.addHook('onError', async (_request, _reply, error) => {
    const known = toCatalogError(error);
    if (known.statusCode < 500 && !COUNTED_BY_INGEST.has(known.code)) opts.refused?.(known.code);
  });

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

  /**
   * Whose budget a request spends: its device's. A network server posts every end device's
   * uplinks with one gateway credential, one request per uplink: each uplink counts for the end
   * device it carries, else one credential would throttle the whole fleet behind it.
   */
  const rateKey = (request: FastifyRequest): string => {
    const credential = request.credential;
    if (!credential) return request.ip;
    if (credential.kind === 'gateway') {
      const url = request.routeOptions.url;
      const network = url === '/v1/uplinks/chirpstack' ? 'chirpstack' : url === '/v1/uplinks/ttn' ? 'ttn' : undefined;
      const eui = network ? uplinkDevEui(network, request.body) : undefined;
      if (eui !== undefined) return `${credential.id}/${eui}`;
    }
    return credential.id;
  };

  if (opts.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: false,
      hook: 'preHandler',
      max: opts.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: rateKey,
      errorResponseBuilder: (_request, context) =>
        Errors.ingestRateLimited(`At most ${context.max} requests per minute per device`, {
          retryAfterS: Math.ceil(context.ttl / 1000),
        }),
    });
  }

  // InfluxDB's write endpoints (line protocol), with their own body parsers and InfluxDB-shaped errors.
  await app.register(lineProtocolRoutes, {
    ingest,
    auth,
    bodyLimitBytes: opts.bodyLimitBytes,
    maxBatchItems: opts.maxBatchItems,
    rateLimited: opts.rateLimitPerMinute > 0,
    quantities: opts.quantities ?? buildQuantityTable(),
    ...(opts.profiles ? { profiles: opts.profiles } : {}),
    ...(opts.deviceProfileOf ? { deviceProfileOf: opts.deviceProfileOf } : {}),
  });

  /**
   * Cheap refusals first, before a byte of the body is read, so that a client without a usable
   * credential cannot hold a connection by sending its body slowly: pressure, the credential
   * (a Bearer secret in full; for a signed request the headers, the timestamp and the device named
   * by `fieldhook-device`, which must exist and be enabled), the media type, the source network.
   * The signature itself needs the body, so it is checked once that is read.
   */
  const authenticated = (mediaTypes: readonly string[], openapi: { openapi: RouteDocumentation }) => ({
    bodyLimit: opts.bodyLimitBytes,
    childLoggerFactory: lazyChildLogger,
    config: { ...(opts.rateLimitPerMinute > 0 ? { rateLimit: {} } : {}), ...openapi },
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
  async function ingestItems(request: FastifyRequest, reply: FastifyReply, items: unknown[], fieldRefusals?: IngestOutcome['refused']) {
    if (items.length === 0) throw Errors.ingestEmptyBatch();
    if (items.length > opts.maxBatchItems) {
      throw Errors.ingestBatchTooLarge(`At most ${opts.maxBatchItems} readings per request`, { maxBatchItems: opts.maxBatchItems });
    }
    // Every signed request is accepted once per webhook-id, whatever else it carries.
    const signedId = request.signature?.['webhook-id'];
    // The items are all that is read from here on: the parsed body and its bytes are let go before
    // the commit is awaited, rather than surviving the young-generation collections meanwhile.
    request.body = undefined;
    request.rawBody = undefined;
    const outcome = await ingest.ingest({
      credential: request.credential!,
      items,
      correlationId: request.id,
      protocol: 'http',
      ...(signedId ? { onceKey: signedId } : {}),
    });
    const refused = fieldRefusals ? [...fieldRefusals, ...outcome.refused] : outcome.refused;
    if (outcome.accepted + outcome.duplicates === 0 && outcome.refused.length > 0) {
      const forbidden = outcome.refused.every((r) => r.code === Errors.authDeviceForbidden.code);
      const error = forbidden ? Errors.authDeviceForbidden : Errors.ingestAllRefused;
      throw error(undefined, { refused });
    }
    // Fields an uplink's profile could not read are part of the answer, not of the log alone.
    return reply.code(202).send(fieldRefusals ? { ...outcome, refused } : outcome);
  }

  // A pack is refused as soon as it makes more readings than a request may carry.
  const senmlLimits = { ...DEFAULT_SENML_LIMITS, maxReadings: opts.maxBatchItems };
  const readingsDocs = ingestDocs({
    [JSON_MEDIA_TYPE]: { schema: { oneOf: [readingSchema, { type: 'array', minItems: 1, items: readingSchema }] } },
    [SENML_MEDIA_TYPE]: { schema: senmlSchema },
  });
  app.post('/v1/readings', { schema: ingestSchema('Readings: one or an array (native JSON), or a SenML pack.'), ...authenticated([JSON_MEDIA_TYPE, SENML_MEDIA_TYPE], readingsDocs) }, async (request, reply) => {
    if (mediaTypeOf(request) === SENML_MEDIA_TYPE) return ingestItems(request, reply, fromSenml(request.body, senmlLimits));
    return ingestItems(request, reply, Array.isArray(request.body) ? request.body : [request.body]);
  });

  // LoRaWAN network servers post their uplinks here with a gateway credential (see adapters/lorawan.ts).
  // ChirpStack posts every event type to this URL; only `up` is read, any other is acknowledged unread.
  const chirpstackDocs = ingestDocs(
    { [JSON_MEDIA_TYPE]: { schema: { anyOf: [chirpstackSchema, { description: 'Another event (`?event=` other than `up`): any JSON, not read.' }] } } },
    {
      querystring: { type: 'object', properties: { event: { type: 'string', description: 'ChirpStack event type; only `up` carries readings.' } } },
      responses: { 204: { description: 'An event other than `up`: nothing to store.' } },
    },
  );
  /** Reading options for one uplink: the profiles, and the profile its device names in the registry. */
  async function uplinkOptions(network: 'chirpstack' | 'ttn', body: unknown): Promise<UplinkOptions> {
    if (!opts.profiles) return {};
    const eui = uplinkDevEui(network, body);
    const named = eui !== undefined && opts.deviceProfileOf ? await opts.deviceProfileOf(eui) : undefined;
    if (named !== undefined && !opts.profiles.byName(named)) {
      app.log.warn({ device: eui, profile: named }, 'the device names a profile that is not loaded; the uplink selects its own');
    }
    return { profiles: opts.profiles, ...(named !== undefined ? { deviceProfile: named } : {}) };
  }
  /**
   * An uplink read through its device profile: its own reading, then the readings the node buffered
   * (a profile's `history`), each at its position in the answer's `refused` (`index`). Fields the
   * profile could not map are logged and answered in `refused` with their paths, the others
   * ingested. When nothing gave a value the uplink is refused with each field's reason: the
   * gateway's RSSI alone is no reading of the device's, and stored as one it hid every value lost.
   */
  async function ingestUplink(request: FastifyRequest, reply: FastifyReply, uplink: UplinkItem) {
    // Nothing read: the gateway's RSSI alone is no reading of the device's (an unplugged sensor must
    // not look alive through it). The reading goes to ingest without it, which refuses it as any
    // reading without values (or for what else it finds first: its time, its device); an uplink of
    // buffered readings alone needs no reading of its own.
    const read = Object.keys(uplink.item.values).some((name) => name !== 'rssi');
    const own = read ? [uplink.item] : uplink.history.length > 0 ? [] : [{ ...uplink.item, values: {} }];
    const items: unknown[] = [...own, ...uplink.history.map((h) => h.item)];
    const refusal = (index: number) => (r: FieldRefusal) => ({ index, code: r.code, message: r.message, field: r.path });
    const refused = [...uplink.refused.map(refusal(0)), ...uplink.history.flatMap((h, k) => h.refused.map(refusal(own.length + k)))];
    if (refused.length > 0) request.log.warn({ profile: uplink.profile, device: uplink.item.device, refused }, 'uplink fields refused by the device profile');
    return ingestItems(request, reply, items, refused.length > 0 ? refused : undefined);
  }
  const uplinkSchema = ingestSchema("A LoRaWAN network server's uplink, with a gateway credential.");
  app.post<{ Querystring: { event?: string } }>('/v1/uplinks/chirpstack', { schema: uplinkSchema, ...authenticated([JSON_MEDIA_TYPE], chirpstackDocs) }, async (request, reply) => {
    // ChirpStack posts every event type to one URL; only uplinks carry readings.
    if (request.query.event !== undefined && request.query.event !== 'up') return reply.code(204).send();
    return ingestUplink(request, reply, readChirpStack(request.body, await uplinkOptions('chirpstack', request.body)));
  });
  const ttnDocs = ingestDocs(
    { [JSON_MEDIA_TYPE]: { schema: ttnSchema } },
    { responses: { 204: { description: 'A simulated uplink (`"simulated": true`, from the console\'s "Simulate uplink"): not stored.' } } },
  );
  app.post('/v1/uplinks/ttn', { schema: uplinkSchema, ...authenticated([JSON_MEDIA_TYPE], ttnDocs) }, async (request, reply) => {
    const uplink = readTheThingsStack(request.body, await uplinkOptions('ttn', request.body));
    // A codec tested in the console must not feed test values into the advice. Its envelope is
    // read like any other (a malformed one is refused alike); the uplink is answered 2xx, as a
    // ChirpStack event without readings is: a refusal would count as a failed delivery of the
    // webhook, and the network server only needs to know it was received.
    if (isSimulatedUplink(request.body)) {
      request.log.info({ device: uplink.item.device }, 'simulated uplink received, not stored');
      return reply.code(204).send();
    }
    return ingestUplink(request, reply, uplink);
  });
};
