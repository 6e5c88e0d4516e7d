import { InfluxDB, setLogger, type ClientOptions } from '@influxdata/influxdb-client';
import type { Logger } from './logger.js';

/**
 * The InfluxDB client writes its own failures to the console in plain text, lines of stack and
 * headers between fieldhook's JSON lines. Every caller reports its failures itself, so the client's
 * messages go to fieldhook's logger at debug level, or nowhere before one is given.
 */
let clientLogger: Logger | undefined;
setLogger({
  error: (message, err) => clientLogger?.debug({ err, source: 'influxdb-client' }, message),
  warn: (message, err) => clientLogger?.debug({ err, source: 'influxdb-client' }, message),
});

/** Where the InfluxDB client's own messages go (at debug level). */
export function logInfluxClientTo(logger: Logger): void {
  clientLogger = logger;
}

/** Where and how to reach InfluxDB. The v2 API is served by 2.x, 3.x, Cloud and 1.8+. */
export interface InfluxTarget {
  url: string;
  /** 2.x/3.x: an API token. 1.8: `user:password`, or empty when auth is off. */
  token: string;
  /** 2.x/Cloud: the organisation; ignored by 1.8. */
  org: string;
  /** 2.x: the bucket; 1.8: `database/retention-policy` or just `database`. */
  bucket: string;
  /** Per-request timeout, ms. */
  timeoutMs: number;
}

export function createInfluxClient(target: InfluxTarget): InfluxDB {
  const options: ClientOptions = { url: target.url, timeout: target.timeoutMs };
  if (target.token) options.token = target.token;
  return new InfluxDB(options);
}

/**
 * `GET /ping` answers on every InfluxDB version: the cheapest "is it there" question. The token,
 * when given, goes along: InfluxDB 3 asks for one on `/ping` by default.
 */
export async function pingInflux(url: string, timeoutMs: number, token?: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/ping', url), {
      signal: AbortSignal.timeout(timeoutMs),
      ...(token ? { headers: { authorization: `Token ${token}` } } : {}),
    });
    await res.body?.cancel();
    return res.status === 204 || res.status === 200;
  } catch {
    return false;
  }
}

/** The InfluxQL database name inside a 1.8-style `db/rp` bucket. */
export function databaseOf(bucket: string): string {
  return bucket.split('/')[0]!;
}
