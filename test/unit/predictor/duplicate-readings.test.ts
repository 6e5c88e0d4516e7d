/**
 * The same device message taken by two ingestors reaches the field's predictor twice (each
 * ingestor de-duplicates only what it took itself). The second copy changes nothing in the
 * window, so it is neither applied nor evaluated: one evaluation, one `recommendation` point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { buildPredictor, type Predictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { identityOf } from '../../../services/predictor/model-holder.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import type { WindowReading } from '../../../services/predictor/window-store.js';
import { systemClock } from '../../../services/shared/clock.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-07-06T12:00:00Z');

describe('a reading that reaches the predictor twice', () => {
  let model: IrrigationModel;
  let predictor: Predictor;
  const rounds: number[] = [];

  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
    const db = openPredictorDb(':memory:');
    const fields = createSqliteFieldProfiles(db);
    await fields.add({ farm: 'f', field: 'a', crop: 'tomato', soil: 'loam', sowingDate: '2026-05-01', efficiency: 0.9, latitudeDeg: 45, longitudeDeg: 9, elevationM: 100 });
    predictor = buildPredictor({
      // No scheduled round within the test: every round is one the readings caused.
      config: { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_INTERVAL_MS: String(HOUR) }), DATA_DIR: '/nonexistent' },
      logger: silentLogger(),
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
      publish: async (e) => ({ id: e.id!, deliveries: 0, duplicate: false }),
      clock: { ...systemClock, now: () => NOW },
      fields,
      states: createSqliteDecisionStates(db),
      history: { load: async () => new Map() },
      writer: { write: async (e) => void rounds.push(e.length), close: async () => {} },
      model: { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) },
    });
    await predictor.start();
    rounds.length = 0;
  });

  afterAll(async () => {
    await predictor?.stop();
    await model?.close();
  });

  const reading = (ts: number, soil: number, correlationId: string): WindowReading => ({
    ts, values: { soil_moisture: soil, air_temperature: 21.5, battery_voltage: 3.7 }, correlationId,
  });

  it('evaluates the field once for the first copy and not at all for the second', async () => {
    predictor.ingest('f/a', [reading(NOW - HOUR, 0.24, 'from-ingestor-a')]);
    await predictor.idle();
    expect(rounds).toEqual([1]);
    const revisions = new Map(predictor.windows.get('f/a')!.binRevisions);

    // The other ingestor's copy: another correlation id, the same device time and values.
    predictor.ingest('f/a', [reading(NOW - HOUR, 0.24, 'from-ingestor-b')]);
    await predictor.idle();
    expect(rounds).toEqual([1]);
    expect(predictor.windows.get('f/a')!.count).toBe(1);
    expect(predictor.windows.get('f/a')!.binRevisions).toEqual(revisions);
  });

  it('keeps a batch copy’s new readings and evaluates once for them', async () => {
    predictor.ingest('f/a', [reading(NOW - HOUR, 0.24, 'b'), reading(NOW - HOUR / 2, 0.23, 'b')]);
    await predictor.idle();
    expect(rounds).toEqual([1, 1]);
    expect(predictor.windows.get('f/a')!.count).toBe(2);
  });

  it('still takes a reading at a time it holds when a value differs (a correction, or another device at that instant)', async () => {
    predictor.ingest('f/a', [reading(NOW - HOUR, 0.26, 'c')]);
    await predictor.idle();
    expect(rounds).toEqual([1, 1, 1]);
    expect(predictor.windows.between('f/a', NOW - HOUR, NOW - HOUR)[0]!.values.soil_moisture).toBe(0.26);
  });
});
