/**
 * The newest water balance recorded for one field: the `recommendation` point the round of
 * whichever predictor evaluates it writes (outputs.ts). Where predictors share the fields, an
 * instance has no window of a field evaluated elsewhere to assess it now; this is the figure
 * that predictor found last, read back from InfluxDB (InfluxQL, as every version serves it).
 */
import type { Clock } from '../shared/clock.js';
import type { InfluxTarget } from '../shared/influx.js';
import { queryInfluxQl, quoteLiteral, statementError } from '../shared/influxql.js';

const DAY_MS = 86_400_000;

export interface RecordedBalance {
  /** When it was evaluated, epoch ms. */
  at: number;
  /** Root-zone depletion then and the RAW threshold, mm. */
  depletionMm: number;
  rawMm: number;
}

export interface RecordedBalanceReader {
  /** The field's newest balance within the look-back; undefined when none. Rejects when InfluxDB cannot be read. */
  latest(farm: string, field: string): Promise<RecordedBalance | undefined>;
}

export interface RecordedBalanceOptions {
  /** How far back a balance is looked for, ms. Default 7 days (as the status page's last-seen look-back). */
  lookbackMs: number;
}

export const DEFAULT_RECORDED_BALANCE_OPTIONS: RecordedBalanceOptions = { lookbackMs: 7 * DAY_MS };

/** The statement (exported for tests). Stale evaluations carry no balance; RAW is positive in every one that does. */
export function recordedBalanceQuery(farm: string, field: string, fromTs: number, toTs: number): string {
  return (
    `SELECT "depletion_mm", "raw_mm" FROM "recommendation" WHERE time > ${Math.floor(fromTs)}ms AND time <= ${Math.floor(toTs)}ms ` +
    `AND "farm" = ${quoteLiteral(farm)} AND "field" = ${quoteLiteral(field)} AND "raw_mm" > 0 ORDER BY time DESC LIMIT 1`
  );
}

export function createRecordedBalanceReader(
  target: Pick<InfluxTarget, 'url' | 'token' | 'bucket' | 'timeoutMs'>,
  clock: Clock,
  options: RecordedBalanceOptions = DEFAULT_RECORDED_BALANCE_OPTIONS,
): RecordedBalanceReader {
  return {
    async latest(farm, field) {
      const now = clock.now();
      const [result] = await queryInfluxQl(target, recordedBalanceQuery(farm, field, now - options.lookbackMs, now));
      const error = statementError(result);
      if (error) throw new Error(`InfluxDB query error: ${error}`);
      const series = result?.series?.[0];
      const row = series?.values[0];
      if (!series || !row) return undefined;
      const [at, depletionMm, rawMm] = ['time', 'depletion_mm', 'raw_mm'].map((c) => row[series.columns.indexOf(c)]);
      if (typeof at !== 'number' || typeof depletionMm !== 'number' || typeof rawMm !== 'number') return undefined;
      return { at, depletionMm, rawMm };
    },
  };
}
