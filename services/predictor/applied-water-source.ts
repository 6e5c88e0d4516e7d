/**
 * Where the predictor gets recorded irrigations: the bus (live, `fieldIrrigationsTopic`, PUBACK
 * after the ledger has them) and InfluxDB's `irrigation` measurement (windows rebuilt at start, and
 * replay), read with InfluxQL on `/query` like the readings' history.
 */
import {
  ALL_FIELD_IRRIGATIONS,
  InvalidBusMessage,
  connectSubscriber,
  parseIrrigationBatch,
  type BusConnection,
  type BusIrrigation,
  type Subscriber,
} from '../shared/bus/index.js';
import { Errors } from '../shared/error-catalog.js';
import type { InfluxTarget } from '../shared/influx.js';
import { queryInfluxQl, quoteLiteral, statementError, type InfluxQlResult } from '../shared/influxql.js';
import type { Logger } from '../shared/logger.js';
import type { AppliedWater } from './applied-water.js';
import { fieldKey } from './field-profiles.js';


/** Records in InfluxDB whose water ended in (fromTs, toTs], grouped by field key. */
export interface AppliedWaterLoader {
  load(fromTs: number, toTs: number, fields?: readonly { farm: string; field: string }[]): Promise<Map<string, AppliedWater[]>>;
}

const fromBus = (r: BusIrrigation): AppliedWater => ({ id: r.id, startTs: Date.parse(r.start), endTs: Date.parse(r.end), depthMm: r.depth_mm });

/** Irrigation records from the bus into `apply` (by field key); another partition's are skipped by `apply`. */
export function createAppliedWaterConsumer(
  connection: BusConnection,
  deps: { apply(key: string, items: AppliedWater[]): void; logger: Logger },
  options: { clientId: string; group: string },
): Subscriber {
  return connectSubscriber(
    connection,
    { clientId: options.clientId, group: options.group, filter: ALL_FIELD_IRRIGATIONS },
    (packet) => {
      let list: BusIrrigation[];
      try {
        list = parseIrrigationBatch(packet.payload);
      } catch (err) {
        throw new InvalidBusMessage(`bus irrigations are not JSON: ${(err as Error).message}`);
      }
      const byField = new Map<string, AppliedWater[]>();
      for (const r of list) {
        const key = fieldKey(r.farm, r.field);
        byField.set(key, [...(byField.get(key) ?? []), fromBus(r)]);
      }
      for (const [key, items] of byField) deps.apply(key, items);
    },
    deps.logger,
  );
}

/** The query the loader sends (exported for tests). */
export function appliedWaterQuery(fromTs: number, toTs: number, fields?: readonly { farm: string; field: string }[]): string {
  let where = `time > ${fromTs}ms AND time <= ${toTs}ms`;
  if (fields && fields.length > 0) {
    where += ` AND (${fields.map((f) => `("farm" = ${quoteLiteral(f.farm)} AND "field" = ${quoteLiteral(f.field)})`).join(' OR ')})`;
  }
  return `SELECT "depth_mm", "duration_s", "id", "recorded_at_ms" FROM "irrigation" WHERE ${where} GROUP BY "farm", "field"`;
}

export function createAppliedWaterLoader(target: Pick<InfluxTarget, 'url' | 'token' | 'bucket' | 'timeoutMs'>): AppliedWaterLoader {
  return {
    async load(fromTs, toTs, fields) {
      let results: InfluxQlResult[];
      try {
        results = await queryInfluxQl(target, appliedWaterQuery(fromTs, toTs, fields));
      } catch (err) {
        throw Errors.predictHistory(`Irrigation records not loaded: ${(err as Error).message}`);
      }
      const error = statementError(results[0]);
      if (error) throw Errors.predictHistory(`InfluxDB query error: ${error}`);
      const out = new Map<string, AppliedWater[]>();
      for (const series of results[0]?.series ?? []) {
        const { farm, field } = series.tags ?? {};
        if (farm === undefined || field === undefined) continue;
        const col = (name: string) => series.columns.indexOf(name);
        const [iTime, iDepth, iDuration, iId, iRecorded] = [col('time'), col('depth_mm'), col('duration_s'), col('id'), col('recorded_at_ms')];
        const list = series.values
          .filter((row) => typeof row[iDepth] === 'number' && typeof row[iTime] === 'number')
          .map((row): AppliedWater => {
            const endTs = row[iTime] as number;
            const duration = typeof row[iDuration] === 'number' ? (row[iDuration] as number) : 0;
            const recorded = iRecorded >= 0 ? row[iRecorded] : undefined;
            return {
              id: typeof row[iId] === 'string' ? (row[iId] as string) : `influx:${endTs}`,
              startTs: endTs - duration * 1000,
              endTs,
              depthMm: row[iDepth] as number,
              ...(typeof recorded === 'number' ? { recordedTs: recorded } : {}),
            };
          });
        out.set(fieldKey(farm, field), list);
      }
      return out;
    },
  };
}
