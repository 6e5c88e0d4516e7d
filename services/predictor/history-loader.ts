/**
 * Reads reading history back from InfluxDB with InfluxQL on `/query`: it runs on 1.x, on 2.x
 * through a DBRP mapping and on 3.x (Flux does not), so the predictor rebuilds its windows the
 * same way on every version.
 */
import type { InfluxTarget } from '../shared/influx.js';
import { queryInfluxQl, quoteLiteral, statementError, type InfluxQlResult } from '../shared/influxql.js';
import { fieldKey } from './field-profiles.js';
import type { WindowReading } from './window-store.js';
import { Errors } from '../shared/error-catalog.js';

export interface HistoryLoader {
  /**
   * Readings with fromTs < time ≤ toTs (epoch ms), grouped by field key (`farm/field`), oldest
   * first; restricted to `fields` when given.
   */
  load(fromTs: number, toTs: number, fields?: readonly { farm: string; field: string }[]): Promise<Map<string, WindowReading[]>>;
}

export { quoteLiteral };

/** The query the loader sends (exported for tests and docs). */
export function historyQuery(fromTs: number, toTs: number, fields?: readonly { farm: string; field: string }[]): string {
  let where = `time > ${fromTs}ms AND time <= ${toTs}ms`;
  if (fields && fields.length > 0) {
    where += ` AND (${fields.map((f) => `("farm" = ${quoteLiteral(f.farm)} AND "field" = ${quoteLiteral(f.field)})`).join(' OR ')})`;
  }
  return `SELECT * FROM "reading" WHERE ${where} GROUP BY "farm", "field"`;
}

const TAG_COLUMNS = new Set(['time', 'device', 'farm', 'field']);
/** Fields per query: keeps the URL and the response bounded. */
const FIELDS_PER_QUERY = 200;

export function createHistoryLoader(target: Pick<InfluxTarget, 'url' | 'token' | 'bucket' | 'timeoutMs'>): HistoryLoader {
  async function query(q: string): Promise<{ results: InfluxQlResult[] }> {
    let results: InfluxQlResult[];
    try {
      results = await queryInfluxQl(target, q);
    } catch (err) {
      throw Errors.predictHistory((err as Error).message);
    }
    // A database without readings yet is not an error for the predictor.
    const error = statementError(results.find((r) => r.error));
    if (error) throw Errors.predictHistory(`InfluxDB query error: ${error}`);
    return { results };
  }

  return {
    async load(fromTs, toTs, fields) {
      const out = new Map<string, WindowReading[]>();
      const chunks = fields ? Array.from({ length: Math.ceil(fields.length / FIELDS_PER_QUERY) }, (_, i) => fields.slice(i * FIELDS_PER_QUERY, (i + 1) * FIELDS_PER_QUERY)) : [undefined];
      for (const chunk of chunks) {
        if (chunk && chunk.length === 0) continue;
        const body = await query(historyQuery(fromTs, toTs, chunk));
        for (const series of body.results?.[0]?.series ?? []) {
          const farm = series.tags?.farm;
          const field = series.tags?.field;
          if (farm === undefined || field === undefined) continue;
          const key = fieldKey(farm, field);
          let list = out.get(key);
          if (!list) out.set(key, (list = []));
          const iTime = series.columns.indexOf('time');
          for (const row of series.values) {
            const values: Record<string, number> = {};
            series.columns.forEach((c, i) => {
              const v = row[i];
              if (!TAG_COLUMNS.has(c) && typeof v === 'number') values[c] = v;
            });
            list.push({ ts: row[iTime] as number, values });
          }
        }
      }
      for (const list of out.values()) list.sort((a, b) => a.ts - b.ts);
      return out;
    },
  };
}
