/**
 * The `irrigation` measurement: one point per record, at the time its water ended (when it is in
 * the soil). Tags `farm`, `field`, `source`, `who`; fields `depth_mm` (net, mm), `duration_s`, `id`,
 * `recorded_at_ms` (when it was recorded, epoch ms: a replay must not credit water before people
 * told fieldhook of it; points written before it was kept have none).
 * A record written again (after a crash before its cursor moved) lands on the same series and
 * time and overwrites itself; `who` is a tag so that two reporters' records of one field that end
 * at the same instant stay two points (a person and the valve controller reporting one run).
 * Its values are bounded: the devices and the chat users of a farm. One reporter's records that
 * end in the same millisecond (two zones of one controller, two entries with the same `--end`)
 * stay two points too: each lies a fraction of a millisecond after its end, by its id, which no
 * reader at millisecond precision sees.
 */
import { createHash } from 'node:crypto';
import { Point, type InfluxDB } from '@influxdata/influxdb-client';
import type { IrrigationRecord } from './record.js';

export const IRRIGATION_MEASUREMENT = 'irrigation';

/** A record's point time, epoch ns: its end, plus 0–999,999 ns taken from its id. */
export function irrigationPointTime(r: Pick<IrrigationRecord, 'id' | 'end'>): string {
  const withinMs = createHash('sha256').update(r.id).digest().readUInt32BE(0) % 1_000_000;
  return (BigInt(Date.parse(r.end)) * 1_000_000n + BigInt(withinMs)).toString();
}

export function irrigationPoint(r: IrrigationRecord): Point {
  const end = Date.parse(r.end);
  return new Point(IRRIGATION_MEASUREMENT)
    .tag('farm', r.farm)
    .tag('field', r.field)
    .tag('source', r.source)
    .tag('who', r.who)
    .floatField('depth_mm', r.depth_mm)
    .floatField('duration_s', (end - Date.parse(r.start)) / 1000)
    .stringField('id', r.id)
    .intField('recorded_at_ms', Date.parse(r.recorded_at))
    .timestamp(irrigationPointTime(r));
}

/** Write records through the v2 write API; rejects when InfluxDB did not take them. */
export function createIrrigationInfluxWriter(influx: InfluxDB, org: string, bucket: string): { write(records: readonly IrrigationRecord[]): Promise<void>; close(): Promise<void> } {
  const api = influx.getWriteApi(org, bucket, 'ns', { maxRetries: 0, batchSize: 100_000, flushInterval: 0 });
  return {
    async write(records) {
      api.writePoints(records.map(irrigationPoint));
      await api.flush();
    },
    close: () => api.close().catch(() => {}),
  };
}
