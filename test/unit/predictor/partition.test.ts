import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPredictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { fieldHash, ownsField, partitionGroup } from '../../../services/predictor/partition.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';

describe('field partitions', () => {
  it('hashes stably (FNV-1a) so every instance agrees on the owner', () => {
    expect(fieldHash('')).toBe(0x811c9dc5);
    expect(fieldHash('farm1/north')).toBe(fieldHash('farm1/north'));
    expect(fieldHash('a')).toBe(0xe40c292c);
  });

  it('gives every field to exactly one partition, roughly evenly', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 16 }), (key, partitions) => {
        const owners = Array.from({ length: partitions }, (_, partition) => ownsField({ partitions, partition }, key)).filter(Boolean);
        expect(owners).toHaveLength(1);
      }),
    );
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts.forEach((_, p) => (counts[p]! += ownsField({ partitions: 4, partition: p }, `farm/field-${i}`) ? 1 : 0));
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(partitionGroup('g', { partitions: 1, partition: 0 })).toBe('g');
    expect(partitionGroup('g', { partitions: 3, partition: 2 })).toBe('g-2of3');
  });

  it('an instance keeps and evaluates only its own fields', async () => {
    const make = (partition: number) => {
      const db = openPredictorDb(':memory:');
      const config = { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_PARTITIONS: '2', FIELDHOOK_PREDICT_PARTITION: String(partition) }), DATA_DIR: '/nonexistent' };
      return {
        db,
        fields: createSqliteFieldProfiles(db),
        predictor: (fields: ReturnType<typeof createSqliteFieldProfiles>) =>
          buildPredictor({
            config, logger: silentLogger(), influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
            publish: async (e) => ({ id: e.id!, deliveries: 0, duplicate: false }), fields, states: createSqliteDecisionStates(db),
            history: { load: async () => new Map() }, writer: { write: async () => {}, close: async () => {} },
            model: { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => { throw new Error('unused'); } },
          }),
      };
    };
    const keys = Array.from({ length: 20 }, (_, i) => `f/field-${i}`);
    const seen: string[][] = [];
    for (const partition of [0, 1]) {
      const m = make(partition);
      for (const key of keys) {
        await m.fields.add({ farm: 'f', field: key.slice(2), crop: 'tomato', soil: 'loam', sowingDate: '2026-04-01', efficiency: 0.9, latitudeDeg: 45, longitudeDeg: 9, elevationM: 0 });
      }
      const p = m.predictor(m.fields);
      await p.reloadFields();
      for (const key of keys) p.ingest(key, [{ ts: 1_000, values: { soil_moisture: 0.2 } }]);
      seen.push([...p.windows.keys()]);
      m.db.close();
    }
    expect(seen[0]!.length + seen[1]!.length).toBe(keys.length);
    expect([...seen[0]!, ...seen[1]!].sort()).toEqual([...keys].sort());
    expect(seen[0]!.every((k) => ownsField({ partitions: 2, partition: 0 }, k))).toBe(true);
  });

  it('refuses a partition outside the partitions with FH_ERR_PREDICT_CONFIG', () => {
    const config = { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_PARTITIONS: '2', FIELDHOOK_PREDICT_PARTITION: '2' }), DATA_DIR: '/nonexistent' };
    expect(() =>
      buildPredictor({ config, logger: silentLogger(), influx: { url: 'http://x', token: '', org: 'o', bucket: 'b', timeoutMs: 1 }, publish: async () => ({ id: '', deliveries: 0, duplicate: false }) }),
    ).toThrow(expect.objectContaining({ code: 'FH_ERR_PREDICT_CONFIG' }));
  });

  it('refuses automatic partitions whose heartbeat could not keep the lease (more than a third of it)', () => {
    const build = (env: Record<string, string>) => () =>
      buildPredictor({
        config: { ...loadConfig(PREDICT_CONFIG, env), DATA_DIR: '/nonexistent' },
        logger: silentLogger(), influx: { url: 'http://x', token: '', org: 'o', bucket: 'b', timeoutMs: 1 }, publish: async () => ({ id: '', deliveries: 0, duplicate: false }),
        fields: createSqliteFieldProfiles(openPredictorDb(':memory:'), true), states: createSqliteDecisionStates(openPredictorDb(':memory:'), true),
      });
    expect(build({ FIELDHOOK_PREDICT_LEASE_MS: '9000', FIELDHOOK_PREDICT_HEARTBEAT_MS: '3001' })).toThrow(
      expect.objectContaining({ code: 'FH_ERR_PREDICT_CONFIG', message: expect.stringContaining('FIELDHOOK_PREDICT_HEARTBEAT_MS (3001) must be at most a third of FIELDHOOK_PREDICT_LEASE_MS (9000)') }),
    );
    expect(build({ FIELDHOOK_PREDICT_LEASE_MS: '9000', FIELDHOOK_PREDICT_HEARTBEAT_MS: '3000' })).not.toThrow();
  });
});
