import { gunzipSync } from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { readLineProtocol, type FieldValue, type ParsedLine } from '../adapters/line-protocol-parser.js';
import type { Authenticator } from '../auth.js';
import type { IngestService } from '../ingest.js';
import type { ProfileSet } from '../profiles/load.js';
import { applyProfile, type Profile } from '../profiles/profile.js';
import { Errors } from '../../shared/error-catalog.js';
import { isFieldhookError } from '../../shared/errors.js';
import type { RouteDocumentation } from '../../shared/openapi.js';
import { quantitySpec, type QuantityTable } from '../../shared/quantities.js';
import { lazyChildLogger } from './lazy-logger.js';

export interface LineProtocolRoutesOptions {
  ingest: IngestService;
  auth: Authenticator;
  /** Largest body, bytes, after gzip inflation too (413 above). */
  bodyLimitBytes: number;
  /** Most points in one request (413 above). */
  maxBatchItems: number;
  /** Rate limited like the other ingest routes (the plugin is registered by the caller). */
  rateLimited: boolean;
  /** The quantities fields map onto: canonical and those the configuration declares. */
  quantities: QuantityTable;
  /** Device profiles: a device's own (registry), else {@link DEFAULT_LINE_PROTOCOL_PROFILE}; none: canonical names only. */
  profiles?: ProfileSet;
  /** The profile a device names in the registry. */
  deviceProfileOf?: (device: string) => Promise<string | undefined>;
}

/**
 * The shipped profile (profiles/line-protocol.json) that reads common Telegraf and gateway field
 * names (`temperature`, `humidity`, `rain`, …) for a device that names no profile of its own.
 */
export const DEFAULT_LINE_PROTOCOL_PROFILE = 'line-protocol';

/** Refused lines quoted in a partial-write answer; the rest are counted. */
const MAX_LINES_QUOTED = 5;

const TEXT_PLAIN = 'text/plain';
/**
 * What InfluxDB clients send line protocol as: InfluxDB itself reads the body whatever its type, and
 * the InfluxDB 1.x Python client sends `application/octet-stream`, curl's `--data-binary` (in
 * InfluxDB's own examples) `application/x-www-form-urlencoded`. Others (JSON, say) are refused:
 * they are readings meant for another route.
 */
const LINE_PROTOCOL_MEDIA_TYPES: readonly string[] = [TEXT_PLAIN, 'application/octet-stream', 'application/x-www-form-urlencoded'];

/** Nanoseconds per unit of each precision name (v2 and v1 names). */
const NS_PER_UNIT: Readonly<Record<string, bigint>> = { ns: 1n, n: 1n, us: 1_000n, u: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };
const V2_PRECISIONS = ['ns', 'us', 'ms', 's'];
const V1_PRECISIONS = ['n', 'ns', 'u', 'us', 'ms', 's'];

const TOKEN = /^(?:Token|Bearer)\s+(\S+)$/i;
const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)$/i;

/** InfluxDB's error codes by HTTP status: its clients (Telegraf, influxdb-client) read `code` and `message`. */
const INFLUX_CODES: Readonly<Record<number, string>> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  413: 'request too large',
  415: 'unsupported media type',
  429: 'too many requests',
  503: 'unavailable',
};

/** The body of an InfluxDB 2.x error, as `/api/v2/write` answers it. */
export const INFLUX_ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message'],
  description: 'An InfluxDB 2.x-shaped error (not problem+json): this route answers as InfluxDB does, for its clients.',
  properties: {
    code: { type: 'string', enum: [...new Set([...Object.values(INFLUX_CODES), 'internal error'])] },
    message: { type: 'string' },
  },
} as const;

/** The body of an InfluxDB 1.x error, as `/write` answers it (Telegraf's `outputs.influxdb` reads `error`). */
export const INFLUX_V1_ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  description: 'An InfluxDB 1.x-shaped error (not problem+json): this route answers as InfluxDB 1.x does, for its clients.',
  properties: { error: { type: 'string' } },
} as const;

function influxError(statusCode: number, message: string) {
  const error = new Error(message) as Error & { statusCode: number; influx: true };
  error.statusCode = statusCode;
  error.influx = true;
  return error;
}

/**
 * Errors of these routes in InfluxDB's shape, with the status of the fieldhook error: 2.x
 * `{code, message}` on `/api/v2/write`, 1.x `{error}` and the `X-Influxdb-Error` header on `/write`.
 */
const influxErrorHandler = (v1: boolean) => (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
  const status = isFieldhookError(err) ? err.statusCode : typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
  if (status >= 500 && status !== 503) request.log.error({ err }, 'line protocol write failed');
  else request.log.info({ status, code: isFieldhookError(err) ? err.code : err.code }, err.message);
  const retryAfterS = isFieldhookError(err) ? err.details?.retryAfterS : undefined;
  if (typeof retryAfterS === 'number') void reply.header('retry-after', String(retryAfterS));
  const message = status >= 500 && status !== 503 ? 'internal error' : err.message;
  void reply.code(status).type('application/json; charset=utf-8');
  if (v1) {
    // A header holds printable ASCII only; the message may quote several lines and any field name.
    void reply.header('x-influxdb-error', message.replace(/[^\x20-\x7e]/g, '?').slice(0, 1_000)).send({ error: message });
  } else {
    void reply.send({ code: INFLUX_CODES[status] ?? 'internal error', message });
  }
};

/**
 * The secret a write presents: `Authorization: Token|Bearer <secret>`, or (v1) Basic with the
 * secret as the password (Telegraf's `outputs.influxdb` `password`), or the `p` query parameter.
 */
function presentedSecret(request: FastifyRequest, v1: boolean): string {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const basic = v1 ? BASIC.exec(authorization)?.[1] : undefined;
    if (basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0 || colon === decoded.length - 1) throw Errors.authMalformed('Send Basic <user:secret> with the secret as the password');
      return decoded.slice(colon + 1);
    }
    const secret = TOKEN.exec(authorization)?.[1];
    if (secret === undefined) throw Errors.authMalformed('Send Authorization: Token <secret>');
    return secret;
  }
  const p = v1 ? (request.query as Record<string, unknown>).p : undefined;
  if (typeof p === 'string' && p !== '') return p;
  throw Errors.authMissing('Send Authorization: Token <secret>');
}

/** A field name as a quantity of `table`: itself, or `<measurement>_<field>` when that is one. */
function quantityOf(table: QuantityTable, measurement: string, field: string): string | undefined {
  if (quantitySpec(table, field)) return field;
  const joined = `${measurement}_${field}`;
  return quantitySpec(table, joined) ? joined : undefined;
}

/** Epoch milliseconds of a line's timestamp in `precision` (nanoseconds per unit); absent = now. */
function epochMs(line: ParsedLine, nsPerUnit: bigint, now: number): number {
  if (line.timestamp === undefined) return now;
  return Number((line.timestamp * nsPerUnit) / 1_000_000n);
}

/** A name as quoted in an answer: bounded, so a refusal never repeats a huge key. */
const shown = (text: string) => (text.length <= 80 ? text : `${text.slice(0, 80)}…`);

/** How a line's fields become quantities: a profile, and whether it is the device's own (it then wins over canonical names). */
export interface LineMapping {
  profile?: Profile;
  /** The device names this profile: the fields it knows are its to read. Otherwise canonical names come first. */
  ownProfile: boolean;
}

/**
 * A parsed line as a native reading, or why it cannot be one. Each field is, in order: read by
 * the device's own profile when it knows the field; a quantity by name (canonical or declared,
 * or `<measurement>_<field>`); read by the default profile when it knows the field. Anything
 * else refuses the line, as does a value the profile cannot map: a line is stored whole or not
 * at all.
 */
export function lineToReading(
  line: ParsedLine,
  credential: { id: string; kind: string },
  nsPerUnit: bigint,
  now: number,
  quantities: QuantityTable,
  mapping: LineMapping = { ownProfile: false },
): { item: { device: string; ts: number; values: Record<string, number> } } | { refused: string } {
  const device = line.tags.get('device') ?? (credential.kind === 'gateway' ? undefined : credential.id);
  if (device === undefined) return { refused: 'a gateway names the device in the `device` tag' };
  const { profile } = mapping;
  const values: Record<string, number> = {};
  const forProfile: [string, FieldValue][] = [];
  for (const [name, field] of line.fields) {
    if (profile && mapping.ownProfile && profile.known.has(name)) {
      forProfile.push([name, field]);
      continue;
    }
    const quantity = quantityOf(quantities, line.measurement, name);
    if (quantity === undefined) {
      if (profile?.known.has(name)) {
        forProfile.push([name, field]);
        continue;
      }
      return {
        refused: `field ${shown(name)} is not a known quantity (nor is ${shown(`${line.measurement}_${name}`)})${profile ? `, nor read by profile ${profile.name}` : ''}`,
      };
    }
    if (field.type === 'string' || field.type === 'boolean') return { refused: `field ${shown(name)}: ${field.type} values are not readings` };
    // `soil moisture=…,soil_moisture=…` names one quantity twice: which value is meant cannot be told.
    if (Object.hasOwn(values, quantity)) return { refused: `two fields give ${quantity}` };
    values[quantity] = field.value;
  }
  if (profile && forProfile.length > 0) {
    const result = applyProfile(profile, Object.fromEntries(forProfile.map(([name, field]) => [name, field.value])));
    const refusal = result.refused[0];
    if (refusal) return { refused: `field ${refusal.message} (profile ${profile.name})` };
    for (const [quantity, value] of Object.entries(result.values)) {
      if (Object.hasOwn(values, quantity)) return { refused: `two fields give ${quantity}` };
      values[quantity] = value;
    }
  }
  if (Object.keys(values).length === 0) return { refused: 'no field is a reading' };
  return { item: { device, ts: epochMs(line, nsPerUnit, now), values } };
}

const precisionQuery = (names: string[], defaultName: string) => ({
  type: 'string',
  enum: names,
  default: defaultName,
  description: 'The unit of the timestamps.',
});

const LINE_PROTOCOL_BODY = {
  schema: {
    type: 'string',
    description:
      'InfluxDB line protocol: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, one point a line; `Content-Encoding: gzip` accepted.',
  },
};
const BODY_DOC = Object.fromEntries(LINE_PROTOCOL_MEDIA_TYPES.map((type) => [type, LINE_PROTOCOL_BODY]));

function writeDocs(querystring: Record<string, unknown>, v1: boolean): { openapi: RouteDocumentation } {
  const json = { 'application/json': { schema: v1 ? INFLUX_V1_ERROR_SCHEMA : INFLUX_ERROR_SCHEMA } };
  const influxError401 = { description: 'No, a malformed or an unknown credential (`code: unauthorized`).', content: json };
  return {
    openapi: {
      body: BODY_DOC,
      bodyOptional: true,
      querystring,
      responses: {
        204: { description: 'Every point is on disk (spool committed).' },
        400: {
          description:
            'Some lines cannot be read or mapped, or some points were refused: the others are stored and the message starts `partial write:` and names the refused lines; when no point was stored it names the first bad line (`unable to parse points: line N: …`).',
          content: json,
        },
        401: influxError401,
        403: { description: 'The device is disabled, or not the credential’s to write (`code: forbidden`).', content: json },
        413: { description: 'The body, inflated, is larger than the limit, or has too many points (`code: request too large`).', content: json },
        415: { description: 'Not `text/plain`, `application/octet-stream` or `application/x-www-form-urlencoded` (`code: unsupported media type`).', content: json },
        429: { description: 'Rate limited or back-pressure (`code: too many requests`); retry after `Retry-After`.', content: json },
        503: { description: 'The spool is full (`code: unavailable`); retry after `Retry-After`.', content: json },
      },
    },
  };
}

/**
 * `POST /api/v2/write` and `POST /write` (InfluxDB v1): line protocol in, 204 after the spool
 * commit. As InfluxDB, a body's good lines are stored and the bad ones named in a 400 `partial
 * write`. Errors in InfluxDB's shapes (2.x `{code, message}`, 1.x `{error}`), which its clients
 * parse (docs/devices.md).
 */
export const lineProtocolRoutes: FastifyPluginAsync<LineProtocolRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { ingest, auth } = opts;
  const defaultProfile = opts.profiles?.byName(DEFAULT_LINE_PROTOCOL_PROFILE);

  /**
   * The mapping of each line of one request: the profile its device names in the registry (looked
   * up once per device and request), else the default profile. A name no longer loaded falls back
   * to the default, as uplinks do.
   */
  const mappingsFor = (credential: { id: string; kind: string }) => {
    const byDevice = new Map<string, Promise<LineMapping>>();
    const lookUp = async (device: string): Promise<LineMapping> => {
      const named = opts.profiles && opts.deviceProfileOf ? await opts.deviceProfileOf(device) : undefined;
      const own = named !== undefined ? opts.profiles?.byName(named) : undefined;
      if (own) return { profile: own, ownProfile: true };
      return defaultProfile ? { profile: defaultProfile, ownProfile: false } : { ownProfile: false };
    };
    return (line: ParsedLine): Promise<LineMapping> => {
      const device = line.tags.get('device') ?? credential.id;
      let mapping = byDevice.get(device);
      if (!mapping) byDevice.set(device, (mapping = lookUp(device)));
      return mapping;
    };
  };
  app.removeAllContentTypeParsers();
  // text/plain, and a body without a content type (some clients send none).
  app.addContentTypeParser([TEXT_PLAIN, '*'], { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_request, body, done) => done(null, body));

  const route = (path: string, v1: boolean) => {
    const precisions = v1 ? V1_PRECISIONS : V2_PRECISIONS;
    const querystring = v1
      ? {
          type: 'object',
          properties: {
            db: { type: 'string', description: 'Database (accepted, not used: readings go to the configured bucket).' },
            precision: precisionQuery(V1_PRECISIONS, 'n'),
            u: { type: 'string', description: 'User name (not used).' },
            p: { type: 'string', description: 'The device or gateway secret, if not in `Authorization: Token`.' },
          },
        }
      : {
          type: 'object',
          properties: {
            org: { type: 'string', description: 'Organization (accepted, not used).' },
            bucket: { type: 'string', description: 'Bucket (accepted, not used: readings go to the configured bucket).' },
            precision: precisionQuery(V2_PRECISIONS, 'ns'),
          },
        };
    app.post(
      path,
      {
        schema: {
          tags: ['ingest'],
          summary: v1 ? 'InfluxDB 1.x write: line protocol.' : 'InfluxDB 2.x write: line protocol.',
          description: v1
            ? 'Answers as InfluxDB 1.x does: 204, or `{error}` with `X-Influxdb-Error` (not problem+json); the good lines of a partly bad body are stored (400 `partial write`). `Authorization: Token <secret>`, `Bearer`, or `Basic` with the secret as the password; or the secret as the `p` query parameter.'
            : 'Answers as InfluxDB 2.x does: 204, or `{code, message}` (not problem+json); the good lines of a partly bad body are stored (400 `partial write`). `Authorization: Token <secret>` or `Bearer`.',
          security: [{ deviceSecret: [] }],
        },
        bodyLimit: opts.bodyLimitBytes,
        childLoggerFactory: lazyChildLogger,
        errorHandler: influxErrorHandler(v1),
        config: { contentEncodings: ['gzip'], ...(opts.rateLimited ? { rateLimit: {} } : {}), ...writeDocs(querystring, v1) },
        onRequest: async (request: FastifyRequest) => {
          ingest.assertCapacity();
          request.credential = await auth.bearer(presentedSecret(request, v1));
          const media = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          if (media !== '' && !LINE_PROTOCOL_MEDIA_TYPES.includes(media)) {
            throw Errors.httpUnsupportedMediaType(`Send ${LINE_PROTOCOL_MEDIA_TYPES.join(', ')} or none`, { accepted: [...LINE_PROTOCOL_MEDIA_TYPES] });
          }
          await auth.checkNetwork(request.credential, request.ip);
        },
      },
      async (request, reply) => {
        const precision = (request.query as Record<string, unknown>).precision ?? (v1 ? 'n' : 'ns');
        if (typeof precision !== 'string' || !precisions.includes(precision)) {
          throw influxError(400, `precision must be one of ${precisions.join(', ')}`);
        }
        let body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
        if (encoding === 'gzip') {
          try {
            body = gunzipSync(body, { maxOutputLength: opts.bodyLimitBytes });
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
              throw influxError(413, `the body inflates to more than ${opts.bodyLimitBytes} bytes`);
            }
            throw influxError(400, 'the body is not valid gzip');
          }
        } else if (encoding !== 'identity') {
          throw influxError(415, `content-encoding ${encoding} is not supported (gzip is)`);
        }
        const parsed = readLineProtocol(body.toString('utf8'), { maxLines: opts.maxBatchItems, maxLineLength: opts.bodyLimitBytes });
        if (parsed.tooMany) throw influxError(413, `unable to parse points: line ${parsed.tooMany.lineNumber}: ${parsed.tooMany.message}`);
        // Every refused line, with its reason: InfluxDB writes the good points of a body and names the bad ones.
        const dropped: { lineNumber: number; message: string }[] = parsed.errors.map((e) => ({ lineNumber: e.lineNumber, message: `unable to parse: ${e.message}` }));
        const now = Date.now();
        const nsPerUnit = NS_PER_UNIT[precision]!;
        const mappingOf = mappingsFor(request.credential!);
        const items: { device: string; ts: number; values: Record<string, number> }[] = [];
        const lineOfItem: number[] = [];
        for (const line of parsed.lines) {
          const mapped = lineToReading(line, request.credential!, nsPerUnit, now, opts.quantities, await mappingOf(line));
          if ('refused' in mapped) dropped.push({ lineNumber: line.lineNumber, message: mapped.refused });
          else {
            items.push(mapped.item);
            lineOfItem.push(line.lineNumber);
          }
        }
        const quote = (list: typeof dropped) => {
          list.sort((a, b) => a.lineNumber - b.lineNumber);
          const quoted = list.slice(0, MAX_LINES_QUOTED).map((d) => `line ${d.lineNumber}: ${d.message}`);
          if (list.length > MAX_LINES_QUOTED) quoted.push(`and ${list.length - MAX_LINES_QUOTED} more`);
          return quoted.join('; ');
        };
        if (items.length === 0) {
          if (dropped.length === 0) throw influxError(400, 'no points in the body');
          // Nothing stored: InfluxDB's words when no line could be read, ours when lines were read but not mapped.
          if (parsed.lines.length === 0) throw influxError(400, `unable to parse points: ${quote(dropped).replace(/: unable to parse: /g, ': ')}`);
          throw influxError(400, `no point written: ${quote(dropped)}`);
        }
        const outcome = await ingest.ingest({ credential: request.credential!, items, correlationId: request.id, protocol: 'http' });
        for (const r of outcome.refused) dropped.push({ lineNumber: lineOfItem[r.index] ?? r.index + 1, message: r.message ?? r.code });
        if (dropped.length > 0) {
          const written = outcome.accepted + outcome.duplicates;
          const forbidden = written === 0 && parsed.errors.length === 0 && outcome.refused.length === items.length && outcome.refused.every((r) => r.code === Errors.authDeviceForbidden.code);
          const quoted = quote(dropped);
          request.log.warn({ written, dropped: dropped.length, lines: dropped.slice(0, MAX_LINES_QUOTED) }, 'line protocol write: lines refused');
          throw influxError(
            forbidden ? 403 : 400,
            written > 0 ? `partial write: ${written} points written, ${dropped.length} dropped: ${quoted} dropped=${dropped.length}` : `no point written: ${quoted}`,
          );
        }
        return reply.code(204).send();
      },
    );
  };
  route('/api/v2/write', false);
  route('/write', true);
};
