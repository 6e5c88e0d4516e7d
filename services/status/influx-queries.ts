/**
 * What the status page reads back from InfluxDB, in InfluxQL (services/shared/influxql.ts), so it
 * works on every InfluxDB version the pipeline writes to: each device's last reading, battery and
 * RSSI; each field's soil moisture and rain per hour; each field's last water balance from the
 * predictor's `recommendation` points. Aggregates only: the answer stays small however many
 * readings there are.
 */
import type { InfluxTarget } from '../shared/influx.js';
import { queryInfluxQl, statementError, type InfluxQlResult } from '../shared/influxql.js';

export interface DeviceSignals {
  /** Epoch ms of the newest reading, any quantity. */
  lastSeenAt: number;
  batteryV: number | null;
  rssiDbm: number | null;
}

export interface FieldHour {
  /** Start of the hour, epoch ms. */
  t: number;
  soilMoisture: number | null;
  rainfallMm: number | null;
}

/** The water balance of a field's newest evaluation that had one. */
export interface WaterBalance {
  at: number;
  depletionMm: number;
  rawMm: number;
  tawMm: number;
  hoursToRaw: number | null;
}

export interface StatusQueries {
  /** By device id: devices with a reading in (fromMs, toMs]. */
  devices(fromMs: number, toMs: number): Promise<Map<string, DeviceSignals>>;
  /** By field key `farm/field`: hourly mean soil moisture and rain sum in (fromMs, toMs], oldest first. */
  fieldHours(fromMs: number, toMs: number): Promise<Map<string, FieldHour[]>>;
  /** By field key: the newest water balance in (fromMs, toMs]. */
  waterBalances(fromMs: number, toMs: number): Promise<Map<string, WaterBalance>>;
}

const range = (fromMs: number, toMs: number) => `time > ${Math.floor(fromMs)}ms AND time <= ${Math.floor(toMs)}ms`;

/** The statements (exported for tests and docs). */
export const STATUS_STATEMENTS = {
  devices: (fromMs: number, toMs: number) =>
    [
      // Newest point of each device, whatever it carried; then the newest battery and RSSI values,
      // which a node may send less often than its measurements.
      `SELECT * FROM "reading" WHERE ${range(fromMs, toMs)} GROUP BY "device" ORDER BY time DESC LIMIT 1`,
      `SELECT last("battery_voltage") AS "v" FROM "reading" WHERE ${range(fromMs, toMs)} GROUP BY "device"`,
      `SELECT last("rssi") AS "v" FROM "reading" WHERE ${range(fromMs, toMs)} GROUP BY "device"`,
    ].join('; '),
  fieldHours: (fromMs: number, toMs: number) =>
    // Rain per gauge first, then the mean over a field's gauges (as the Field water dashboard
    // does): two gauges in one field must not count its rain twice.
    `SELECT mean("soil_moisture") AS "soil_moisture", mean("rain") AS "rainfall" FROM (` +
    `SELECT mean("soil_moisture") AS "soil_moisture", sum("rainfall") AS "rain" FROM "reading" WHERE ${range(fromMs, toMs)} GROUP BY time(1h), "farm", "field", "device"` +
    `) WHERE ${range(fromMs, toMs)} GROUP BY time(1h), "farm", "field" fill(none)`,
  waterBalances: (fromMs: number, toMs: number) =>
    // Stale evaluations carry no balance; RAW is positive in every one that does.
    `SELECT "depletion_mm", "raw_mm", "taw_mm", "hours_to_threshold" FROM "recommendation" WHERE ${range(fromMs, toMs)} AND "raw_mm" > 0 GROUP BY "farm", "field" ORDER BY time DESC LIMIT 1`,
};

export function createStatusQueries(target: Pick<InfluxTarget, 'url' | 'token' | 'bucket' | 'timeoutMs'>): StatusQueries {
  async function run(q: string): Promise<InfluxQlResult[]> {
    const results = await queryInfluxQl(target, q);
    const error = results.map(statementError).find((e) => e !== undefined);
    if (error) throw new Error(`InfluxDB query error: ${error}`);
    return results;
  }

  return {
    async devices(fromMs, toMs) {
      const [newest, battery, rssi] = await run(STATUS_STATEMENTS.devices(fromMs, toMs));
      const out = new Map<string, DeviceSignals>();
      for (const row of rows(newest, ['device'])) out.set(row.tags.device!, { lastSeenAt: row.time, batteryV: null, rssiDbm: null });
      for (const row of rows(battery, ['device'])) {
        const d = out.get(row.tags.device!);
        if (d) d.batteryV = numberOr(row.values.v);
      }
      for (const row of rows(rssi, ['device'])) {
        const d = out.get(row.tags.device!);
        if (d) d.rssiDbm = numberOr(row.values.v);
      }
      return out;
    },
    async fieldHours(fromMs, toMs) {
      const [result] = await run(STATUS_STATEMENTS.fieldHours(fromMs, toMs));
      const out = new Map<string, FieldHour[]>();
      for (const row of rows(result, ['farm', 'field'])) {
        const key = `${row.tags.farm}/${row.tags.field}`;
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push({ t: row.time, soilMoisture: numberOr(row.values.soil_moisture), rainfallMm: numberOr(row.values.rainfall) });
      }
      for (const list of out.values()) list.sort((a, b) => a.t - b.t);
      return out;
    },
    async waterBalances(fromMs, toMs) {
      const [result] = await run(STATUS_STATEMENTS.waterBalances(fromMs, toMs));
      const out = new Map<string, WaterBalance>();
      for (const row of rows(result, ['farm', 'field'])) {
        const v = row.values;
        if (typeof v.depletion_mm !== 'number' || typeof v.raw_mm !== 'number' || typeof v.taw_mm !== 'number') continue;
        out.set(`${row.tags.farm}/${row.tags.field}`, { at: row.time, depletionMm: v.depletion_mm, rawMm: v.raw_mm, tawMm: v.taw_mm, hoursToRaw: numberOr(v.hours_to_threshold) });
      }
      return out;
    },
  };
}

/** Rows of a result as `{tags, time, values}`; series without every wanted tag are skipped. */
function rows(result: InfluxQlResult | undefined, tags: readonly string[]): { tags: Record<string, string>; time: number; values: Record<string, unknown> }[] {
  const out: { tags: Record<string, string>; time: number; values: Record<string, unknown> }[] = [];
  for (const series of result?.series ?? []) {
    const t = series.tags ?? {};
    if (!tags.every((name) => typeof t[name] === 'string')) continue;
    const iTime = series.columns.indexOf('time');
    for (const row of series.values) {
      const values: Record<string, unknown> = {};
      series.columns.forEach((c, i) => (values[c] = row[i]));
      out.push({ tags: t, time: Number(row[iTime]), values });
    }
  }
  return out;
}

const numberOr = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
