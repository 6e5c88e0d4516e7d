/**
 * Field profiles on PostgreSQL changed from elsewhere (the CLI, another instance) reach a running
 * predictor through the store's change feed before its next round, not only before the scheduled
 * one (FIELDHOOK_PREDICT_INTERVAL_MS).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { buildPredictor, type Predictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import type { FieldSettings, OpenableFieldProfileRepository } from '../../../services/predictor/field-profiles.js';
import { identityOf, type ModelHolder } from '../../../services/predictor/model-holder.js';
import { createPostgresFieldProfiles } from '../../../services/predictor/postgres-field-profiles.js';
import { loadConfig } from '../../../services/shared/config.js';
import { closeControlPlane, createControlPlane, type PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

describe('field profile changes reach a running predictor (PostgreSQL)', () => {
  void inject('postgresUrl');
  const clock = createManualClock(1_790_000_000_000);
  let model: IrrigationModel;
  let planes: PostgresPlane[] = [];
  let cli: OpenableFieldProfileRepository;
  let predictor: Predictor;
  let settings: FieldSettings;

  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
    const url = await createTestDatabase('field_profile_changes');
    const plane = (id: string) => {
      const p = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: url, INSTANCE_ID: id }, silentLogger()) as PostgresPlane;
      planes.push(p);
      return p;
    };
    const [spec] = createFieldSpecs({ count: 1, seed: 'profile-changes', population: POPULATIONS.heldOut });
    const p = profileFromSpec(spec!);
    settings = {
      farm: 'f', field: 'a', crop: spec!.crop, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.9,
      latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg, elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg,
    } as FieldSettings;
    cli = createPostgresFieldProfiles(plane('cli'), clock);
    await cli.open();
    const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) };
    predictor = buildPredictor({
      config: { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_PARTITIONS: '1' }), DATA_DIR: '/nonexistent' },
      logger: silentLogger(),
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
      plane: plane('pred-a'),
      instanceId: 'pred-a',
      clock,
      publish: async (e) => ({ id: e.id!, deliveries: 1, duplicate: false }),
      history: { load: async () => new Map() },
      appliedHistory: { load: async () => new Map() },
      writer: { write: async () => {}, close: async () => {} },
      model: holder,
    });
    await predictor.start();
  }, 60_000);

  afterAll(async () => {
    await predictor?.stop();
    cli?.close();
    for (const p of planes) await closeControlPlane(p);
    await model?.close();
  });

  it('evaluates a field added elsewhere at its next round, and forgets one removed', async () => {
    expect(predictor.status().fields).toEqual([]);
    await cli.add(settings);
    await eventually(async () => (await predictor.evaluate(['f/a'])).length === 1, { what: 'the added field evaluated' });
    expect(predictor.status().fields.map((f) => f.settings.field)).toEqual(['a']);
    await cli.remove('f', 'a');
    await eventually(async () => (await predictor.evaluate()).length === 0, { what: 'the removed field forgotten' });
    expect(predictor.status().fields).toEqual([]);
  });
});
