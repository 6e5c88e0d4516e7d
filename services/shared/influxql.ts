/**
 * InfluxQL on `/query`: it runs on 1.x, on 2.x through a DBRP mapping and on 3.x (Flux does not),
 * so every part that reads InfluxDB back (the predictor's history, the status page) asks the
 * same way on every version.
 */
import type { InfluxTarget } from './influx.js';

/** One statement's answer: its series, or its error. */
export interface InfluxQlResult {
  error?: string;
  series?: { name?: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}

/**
 * Run one or more `;`-separated statements; times come back as epoch ms. Rejects with an Error
 * saying what went wrong when InfluxDB cannot be reached or refuses the request; errors of single
 * statements are left in their result (a database without data yet is one).
 */
export async function queryInfluxQl(target: Pick<InfluxTarget, 'url' | 'token' | 'bucket' | 'timeoutMs'>, q: string): Promise<InfluxQlResult[]> {
  const [db, rp] = target.bucket.split('/');
  const params = new URLSearchParams({ db: db!, q, epoch: 'ms' });
  if (rp) params.set('rp', rp);
  let res: Response;
  try {
    res = await fetch(new URL(`/query?${params}`, target.url), {
      headers: target.token ? { authorization: `Token ${target.token}` } : {},
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (err) {
    throw new Error(`InfluxDB query failed: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxDB answered ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { results?: InfluxQlResult[]; error?: string };
  if (body.error) throw new Error(`InfluxDB query error: ${body.error}`);
  return body.results ?? [];
}

/** InfluxQL string literal (single quotes, backslash-escaped). */
export const quoteLiteral = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A statement's error other than "no such database" (which only means nothing was written yet). */
export function statementError(result: InfluxQlResult | undefined): string | undefined {
  return result?.error && !/database not found/.test(result.error) ? result.error : undefined;
}
