import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { buildPredictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { INITIAL_FIELD_LEARNING } from '../../../services/predictor/field-learning.js';
import { identityOf, type ModelHolder } from '../../../services/predictor/model-holder.js';
import { createSqliteDecisionStates, createSqliteFieldLearning, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { loadConfig } from '../../../services/shared/config.js';
import { systemClock } from '../../../services/shared/clock.js';
import { silentLogger } from '../../../services/shared/logger.js';
import type { SqliteDatabase } from '../../../services/shared/sqlite.js';
import { simulatedField } from '../../helpers/simulated-field.js';

describe('what a field learnt is kept in the predictor store', () => {
  let model: IrrigationModel;
  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
  });
  afterAll(() => model.close());

  it('saves and loads per field, and forgets it with the field', async () => {
    const db = openPredictorDb(':memory:');
    const repo = createSqliteFieldLearning(db);
    const state = { ...INITIAL_FIELD_LEARNING, sxx: 120, sxy: 80, sqq: 60, dryDays: 3, lastDayEnd: 1_750_000_000_000, lastOutcome: 'dry', lastRatio: 0.66 };
    await repo.saveMany([{ farm: 'f', field: 'a', state }]);
    expect((await repo.loadAll()).get('f/a')).toEqual(state);
    const fields = createSqliteFieldProfiles(db);
    await fields.add({ farm: 'f', field: 'a', crop: 'potato', sowingDate: '2025-04-01', thetaFc: 0.3, thetaWp: 0.15, efficiency: 0.9, latitudeDeg: 40, longitudeDeg: 0, elevationM: 10 });
    await fields.remove('f', 'a');
    expect((await repo.loadAll()).size).toBe(0);
    db.close();
  });

  it('survives a restart of the predictor and shows in its status', async () => {
    // Four days of readings from day 20: the evaluation sees the last whole local day.
    const { readings, db, fields } = await simulatedField('learn-store', 20 * 24, 24 * 24);
    const now = readings.at(-1)!.ts;
    const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) };
    const build = (database: SqliteDatabase, env: Record<string, string> = {}) =>
      buildPredictor({
        config: { ...loadConfig(PREDICT_CONFIG, env), DATA_DIR: '/nonexistent' },
        logger: silentLogger(),
        influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
        publish: async (e) => ({ id: e.id!, deliveries: 1, duplicate: false }),
        clock: { ...systemClock, now: () => now },
        fields,
        states: createSqliteDecisionStates(database),
        learning: createSqliteFieldLearning(database),
        history: { load: async () => new Map([['f/a', readings]]) },
        appliedHistory: { load: async () => new Map() },
        writer: { write: async () => {}, close: async () => {} },
        model: holder,
        mode: 'passive',
      });

    const first = build(db);
    await first.start();
    // A round looks at the last whole day and keeps what it saw.
    await first.evaluate(['f/a']);
    const e = await first.assess('f', 'a');
    expect(e?.provenance.field_learning).toMatchObject({ last_day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    await first.stop();

    const second = build(db);
    await second.start();
    const learnt = second.status().fields[0]!.learning;
    expect(learnt).toEqual(e!.provenance.field_learning);
    await second.stop();

    // Turned off, nothing is learnt or shown.
    const off = build(db, { FIELDHOOK_PREDICT_LEARN_FIELD: 'false' });
    await off.start();
    expect(off.status().fields[0]!.learning).toBeNull();
    expect((await off.assess('f', 'a'))?.provenance.field_learning).toBeUndefined();
    await off.stop();
    db.close();
  });
});
