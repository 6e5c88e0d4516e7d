/**
 * The predictor's first round after a start whose state save fails (real PostgreSQL, a login
 * whose writes on the decision state an operator revoked for a moment): the start succeeds, the
 * state stays in memory, and the next round saves it, as for any later round.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { buildPredictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { identityOf, type ModelHolder } from '../../../services/predictor/model-holder.js';
import { createPostgresPredictorStore } from '../../../services/predictor/postgres-predictor-store.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import type { WindowReading } from '../../../services/predictor/window-store.js';
import { loadConfig } from '../../../services/shared/config.js';
import { closeControlPlane, createControlPlane, type PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { systemClock } from '../../../services/shared/clock.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';
import { planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';

describe('the predictor\'s first round when its state save fails (PostgreSQL)', () => {
  let fixture: PlaneFixture;
  let model: IrrigationModel;
  let admin: pg.Client;
  const role = `fh_first_round_${process.pid}`;

  beforeAll(async () => {
    fixture = await planeFixture('postgres', 'first_round_save');
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
    // The schema as an earlier start left it, then a login of the predictor's own.
    const store = createPostgresPredictorStore(fixture.plane() as PostgresPlane, 'setup');
    await store.open();
    admin = new pg.Client({ connectionString: fixture.databaseUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.query(`GRANT CREATE ON SCHEMA public TO ${role}`);
  });
  afterAll(async () => {
    await fixture?.close();
    await admin?.query(`DROP OWNED BY ${role}`);
    await admin?.query(`DROP ROLE ${role}`);
    await admin?.end();
    await model?.close();
  });

  it('starts, keeps the unsaved state, and saves it with the next round', async () => {
    const [spec] = createFieldSpecs({ count: 1, seed: 'first-round', population: POPULATIONS.heldOut });
    const readings: WindowReading[] = sensorReadings(simulateField(spec!)).slice(0, 100).map((r) => ({ ts: Date.parse(r.ts), values: r.values }));
    const p = profileFromSpec(spec!);
    const fields = createSqliteFieldProfiles(openPredictorDb(':memory:'), true);
    await fields.add({
      farm: 'f', field: 'a', crop: spec!.crop, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.9,
      latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg, elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg,
    });
    const now = readings.at(-1)!.ts;
    // The same database under the predictor's own login.
    const asRole = new URL(fixture.databaseUrl!);
    asRole.username = role;
    const plane = createControlPlane({ DATA_DIR: fixture.dataDir, DATABASE_URL: asRole.toString(), INSTANCE_ID: 'pred-a' }, silentLogger());
    fixture.onClose(() => closeControlPlane(plane));
    const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) };
    const predictor = buildPredictor({
      config: { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_INTERVAL_MS: String(3_600_000) }), DATA_DIR: fixture.dataDir },
      logger: silentLogger(),
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
      publish: async (e) => ({ id: e.id!, deliveries: 1, duplicate: false }),
      clock: { ...systemClock, now: () => now },
      plane,
      instanceId: 'pred-a',
      fields,
      history: { load: async () => new Map([['f/a', readings]]) },
      appliedHistory: { load: async () => new Map() },
      writer: { write: async () => {}, close: async () => {} },
      model: holder,
    });
    const saved = async () => (await admin.query<{ n: string }>("SELECT count(*) AS n FROM predictor_decision_state WHERE farm = 'f' AND field = 'a'")).rows[0]!.n;

    // The operator takes the predictor's right to write its decision state away (42501).
    await admin.query(`REVOKE INSERT, UPDATE ON predictor_decision_state FROM ${role}`);
    await predictor.start();
    try {
      expect(predictor.status().fields[0]?.state).not.toBeNull();
      expect(await saved()).toBe('0');
      // Given back: the next round saves what the first one decided.
      await admin.query(`GRANT INSERT, UPDATE ON predictor_decision_state TO ${role}`);
      await predictor.evaluate();
      expect(await saved()).toBe('1');
    } finally {
      await predictor.stop();
    }
  });
});
