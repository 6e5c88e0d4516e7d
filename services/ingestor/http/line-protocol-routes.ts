import { gunzipSync } from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parseLineProtocol, type ParsedLine } from '../adapters/line-protocol-parser.js';
import type { Authenticator } from '../auth.js';
import type { IngestService } from '../ingest.js';
import { Errors } from '../../shared/error-catalog.js';
import { isFieldhookError } from '../../shared/errors.js';
import type { RouteDocumentation } from '../../shared/openapi.js';
import { quantitySpec, type QuantityTable } from '../../shared/quantities.js';

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
}

const TEXT_PLAIN = 'text/plain';

/** Nanoseconds per unit of each precision name (v2 and v1 names). */
const NS_PER_UNIT: Readonly<Record<string, bigint>> = { ns: 1n, n: 1n, us: 1_000n, u: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };
const V2_PRECISIONS = ['ns', 'us', 'ms', 's'];
const V1_PRECISIONS = ['n', 'ns', 'u', 'us', 'ms', 's'];

const TOKEN = /^(?:Token|Bearer)\s+(\S+)$/i;

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

/** The body of an InfluxDB error, as `/api/v2/write` and `/write` answer it. */
export const INFLUX_ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message'],
  description: 'An InfluxDB-shaped error (not problem+json): these routes answer as InfluxDB does, for its clients.',
  properties: {
    code: { type: 'string', enum: [...new Set([...Object.values(INFLUX_CODES), 'internal error'])] },
    message: { type: 'string' },
  },
} as const;

function influxError(statusCode: number, message: string) {
  const error = new Error(message) as Error & { statusCode: number; influx: true };
  error.statusCode = statusCode;
  error.influx = true;
  return error;
}

/** Errors of these routes in InfluxDB's shape: `{code, message}` with the status of the fieldhook error. */
function influxErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = isFieldhookError(err) ? err.statusCode : typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
  if (status >= 500 && status !== 503) request.log.error({ err }, 'line protocol write failed');
  else request.log.info({ status, code: isFieldhookError(err) ? err.code : err.code }, err.message);
  const retryAfterS = isFieldhookError(err) ? err.details?.retryAfterS : undefined;
  if (typeof retryAfterS === 'number') void reply.header('retry-after', String(retryAfterS));
  const message = status >= 500 && status !== 503 ? 'internal error' : err.message;
  void reply.code(status).type('application/json; charset=utf-8').send({ code: INFLUX_CODES[status] ?? 'internal error', message });
}

/** The secret a write presents: `Authorization: Token|Bearer <secret>`, or (v1) the `p` query parameter. */
function presentedSecret(request: FastifyRequest, v1: boolean): string {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
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

/** A parsed line as a native reading, or why it cannot be one. */
export function lineToReading(
  line: ParsedLine,
  credential: { id: string; kind: string },
  nsPerUnit: bigint,
  now: number,
  quantities: QuantityTable,
): { item: { device: string; ts: number; values: Record<string, number> } } | { refused: string } {
  const device = line.tags.get('device') ?? (credential.kind === 'gateway' ? undefined : credential.id);
  if (device === undefined) return { refused: 'a gateway names the device in the `device` tag' };
  const values: Record<string, number> = {};
  for (const [name, field] of line.fields) {
    const quantity = quantityOf(quantities, line.measurement, name);
    if (quantity === undefined) return { refused: `field ${name} is not a known quantity (nor is ${line.measurement}_${name})` };
    if (field.type === 'string' || field.type === 'boolean') return { refused: `field ${name}: ${field.type} values are not readings` };
    values[quantity] = field.value;
  }
  return { item: { device, ts: epochMs(line, nsPerUnit, now), values } };
}

const precisionQuery = (names: string[], defaultName: string) => ({
  type: 'string',
  enum: names,
  default: defaultName,
  description: 'The unit of the timestamps.',
});

const BODY_DOC = {
  [TEXT_PLAIN]: {
    schema: {
      type: 'string',
      description:
        'InfluxDB line protocol: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, one point a line; `Content-Encoding: gzip` accepted.',
    },
  },
};

const influxError401 = { description: 'No, a malformed or an unknown credential (`code: unauthorized`).', content: { 'application/json': { schema: INFLUX_ERROR_SCHEMA } } };

function writeDocs(querystring: Record<string, unknown>): { openapi: RouteDocumentation } {
  const json = { 'application/json': { schema: INFLUX_ERROR_SCHEMA } };
  return {
    openapi: {
      body: BODY_DOC,
      bodyOptional: true,
      querystring,
      responses: {
        204: { description: 'Every point is on disk (spool committed).' },
        400: { description: 'A line cannot be read or mapped, or a point was refused: `{code: invalid, message: "…line N: …"}`.', content: json },
        401: influxError401,
        403: { description: 'The device is disabled, or not the credential’s to write (`code: forbidden`).', content: json },
        413: { description: 'The body, inflated, is larger than the limit, or has too many points (`code: request too large`).', content: json },
        415: { description: 'Not `text/plain` (`code: unsupported media type`).', content: json },
        429: { description: 'Rate limited or back-pressure (`code: too many requests`); retry after `Retry-After`.', content: json },
        503: { description: 'The spool is full (`code: unavailable`); retry after `Retry-After`.', content: json },
      },
    },
  };
}

/**
 * `POST /api/v2/write` and `POST /write` (InfluxDB v1): line protocol in, 204 after the spool
 * commit. Errors in InfluxDB's shape `{code, message}`, which its clients parse (docs/devices.md).
 */
export const lineProtocolRoutes: FastifyPluginAsync<LineProtocolRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { ingest, auth } = opts;
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
          description:
            'Answers as InfluxDB does: 204, or `{code, message}` (InfluxDB-shaped errors, not problem+json). `Authorization: Token <secret>` or `Bearer`' +
            (v1 ? '; or the secret as the `p` query parameter.' : '.'),
          security: [{ deviceSecret: [] }],
        },
        bodyLimit: opts.bodyLimitBytes,
        errorHandler: influxErrorHandler,
        config: { ...(opts.rateLimited ? { rateLimit: {} } : {}), ...writeDocs(querystring) },
        onRequest: async (request: FastifyRequest) => {
          ingest.assertCapacity();
          request.credential = await auth.bearer(presentedSecret(request, v1));
          const media = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          if (media !== '' && media !== TEXT_PLAIN) throw Errors.httpUnsupportedMediaType(`Send ${TEXT_PLAIN}`, { accepted: [TEXT_PLAIN] });
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
        const parsed = parseLineProtocol(body.toString('utf8'), { maxLines: opts.maxBatchItems, maxLineLength: opts.bodyLimitBytes });
        if (!parsed.ok) {
          const tooMany = parsed.message.startsWith('more than');
          throw influxError(tooMany ? 413 : 400, `unable to parse points: line ${parsed.lineNumber}: ${parsed.message}`);
        }
        if (parsed.lines.length === 0) throw influxError(400, 'no points in the body');
        const now = Date.now();
        const nsPerUnit = NS_PER_UNIT[precision]!;
        const items: unknown[] = [];
        for (const line of parsed.lines) {
          const mapped = lineToReading(line, request.credential!, nsPerUnit, now, opts.quantities);
          if ('refused' in mapped) throw influxError(400, `line ${line.lineNumber}: ${mapped.refused}`);
          items.push(mapped.item);
        }
        const outcome = await ingest.ingest({ credential: request.credential!, items, correlationId: request.id, protocol: 'http' });
        if (outcome.refused.length > 0) {
          const first = outcome.refused[0]!;
          const lineNumber = parsed.lines[first.index]?.lineNumber ?? first.index + 1;
          const written = outcome.accepted + outcome.duplicates;
          const status = written === 0 && outcome.refused.every((r) => r.code === Errors.authDeviceForbidden.code) ? 403 : 400;
          throw influxError(
            status,
            `${written > 0 ? `partial write: ${written} points written, ${outcome.refused.length} refused; ` : ''}line ${lineNumber}: ${first.message ?? first.code}`,
          );
        }
        return reply.code(204).send();
      },
    );
  };
  route('/api/v2/write', false);
  route('/write', true);
};
