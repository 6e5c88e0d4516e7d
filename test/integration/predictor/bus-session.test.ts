/**
 * The predictor's bus session on the real Mosquitto: readings published while it is down are
 * delivered when it comes back (persistent MQTT 5 session in a shared group), and a second
 * partition's group gets its own copy.
 */
import mqtt from 'mqtt';
import { describe, expect, inject, it } from 'vitest';
import { buildPredictor, type Predictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { ownsField } from '../../../services/predictor/partition.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { fieldReadingsTopic } from '../../../services/shared/bus/topics.js';
import {  } from '../dispatcher/helpers.js';
import { eventually } from '../../helpers/eventually.js';

const FARM = `bus-${process.pid}`;

function makePredictor(url: string, partition: number, partitions: number): Predictor {
  const db = openPredictorDb(':memory:');
  const config = {
    ...loadConfig(PREDICT_CONFIG, {
      FIELDHOOK_PREDICT_PARTITIONS: String(partitions),
      FIELDHOOK_PREDICT_PARTITION: String(partition),
      FIELDHOOK_PREDICT_MQTT_CLIENT_ID: `bus-session-${process.pid}-${partition}`,
      FIELDHOOK_PREDICT_INTERVAL_MS: '3600000',
      FIELDHOOK_PREDICT_MQTT_GROUP: `bus-${process.pid}`,
    }),
    DATA_DIR: '/nonexistent',
  };
  return buildPredictor({
    config, logger: silentLogger(), influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
    publish: async (e) => ({ id: e.id!, deliveries: 0, duplicate: false }),
    bus: () => ({ url, protocolVersion: 5, sharedSubscriptions: true }),
    fields: createSqliteFieldProfiles(db), states: createSqliteDecisionStates(db),
    history: { load: async () => new Map() }, writer: { write: async () => {}, close: async () => {} },
    model: { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => { throw new Error('no fields configured'); } },
  });
}

describe('predictor bus session (Mosquitto)', () => {
  it('gets the readings published while it was down, and each partition gets its own fields', async () => {
    const url = inject('mosquittoUrl');
    const producer = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bus-producer-${process.pid}` });
    const send = (field: string, hour: number) =>
      producer.publishAsync(fieldReadingsTopic(FARM, field), JSON.stringify([{ device: 'd', farm: FARM, field, ts: new Date(Date.UTC(2026, 6, 6, hour)).toISOString(), values: { soil_moisture: 0.2 }, correlation_id: `c${hour}` }]), { qos: 1 });
    const fields = Array.from({ length: 16 }, (_, i) => `field-${i}`);
    const count = (p: Predictor, field: string) => p.windows.get(`${FARM}/${field}`)?.count ?? 0;

    let p0 = makePredictor(url, 0, 2);
    const p1 = makePredictor(url, 1, 2);
    await p0.start();
    await p1.start();
    for (const f of fields) await send(f, 1);
    await eventually(() => fields.every((f) => count(p0, f) + count(p1, f) === 1), { timeoutMs: 10_000, what: 'first readings' });
    for (const f of fields) expect(count(ownsField({ partitions: 2, partition: 0 }, `${FARM}/${f}`) ? p0 : p1, f)).toBe(1);

    await p0.stop();
    for (const f of fields) await send(f, 2); // partition 0 is away
    p0 = makePredictor(url, 0, 2);
    await p0.start(); // empty history: only the session can bring the hour-2 readings back
    const mine = fields.filter((f) => ownsField({ partitions: 2, partition: 0 }, `${FARM}/${f}`));
    expect(mine.length).toBeGreaterThan(0);
    await eventually(() => mine.every((f) => count(p0, f) === 1), { timeoutMs: 10_000, what: 'queued readings after the restart' });
    await eventually(() => fields.filter((f) => !mine.includes(f)).every((f) => count(p1, f) === 2), { timeoutMs: 10_000, what: 'partition 1 readings' });
    await p0.stop();
    await p1.stop();
    await producer.endAsync();
  }, 30_000);
});
