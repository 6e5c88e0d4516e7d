/**
 * An admin names a field by hand (an irrigation record, a forecast): where a predictor runs, the
 * answer says when no field of that name is configured, so a typo is not water or weather that no
 * advice ever reads. The record or forecast is kept either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { asEnvironment } from '../../helpers/settings.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const ADMIN_TOKEN = 'unknown-fields-admin-token-0123';

describe(`fieldhook start: records and forecasts for fields nothing evaluates (InfluxDB ${influx.kind})`, () => {
  const database = `unknown_fields_${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'fh-unknown-fields-'));
  let pipeline: RunningFieldhook;

  beforeAll(async () => {
    await influx.createDatabase(database);
    const db = openPredictorDb(join(dataDir, 'predictor.db'));
    await createSqliteFieldProfiles(db).add({
      farm: 'home', field: 'north', crop: 'tomato', sowingDate: '2026-10-01', thetaFc: 0.3, thetaWp: 0.14, efficiency: 0.9,
      latitudeDeg: 31.5, longitudeDeg: 35, elevationM: 10, tzLongitudeDeg: 30,
    });
    db.close();
    const env = {
      DATA_DIR: dataDir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      ...influx.settings(database), ADMIN_TOKEN,
    };
    pipeline = await startFieldhook(loadConfig(PIPELINE_CONFIG, asEnvironment(env)), silentLogger(), { handleSignals: false });
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${pipeline.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('an irrigation record for a field that is not configured is kept, and the answer says no advice counts it', async () => {
    const known = await post('/v1/irrigations', { farm: 'home', field: 'north', depth_mm: 12 });
    expect(known.status).toBe(201);
    expect(known.body).not.toHaveProperty('warnings');
    const typo = await post('/v1/irrigations', { farm: 'home', field: 'nroth', depth_mm: 12 });
    expect(typo.status).toBe(201);
    expect(typo.body).toMatchObject({ farm: 'home', field: 'nroth', warnings: ['No field home/nroth is configured (fieldhook fields add): no advice reads this water'] });
  });

  it('a forecast for a farm or field that is not configured is kept, and the answer says no advice reads it', async () => {
    const hours = [{ ts: new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000).toISOString(), rain_mm: 2 }];
    expect((await post('/v1/forecasts', { farm: 'home', hours })).body).not.toHaveProperty('warnings');
    expect((await post('/v1/forecasts', { farm: 'home', field: 'north', hours })).body).not.toHaveProperty('warnings');
    const farm = await post('/v1/forecasts', { farm: 'hmoe', hours });
    expect(farm).toEqual({ status: 201, body: { farm: 'hmoe', hours: 1, stored: 1, warnings: ['No field of farm hmoe is configured (fieldhook fields add): no advice reads this forecast'] } });
    expect((await post('/v1/forecasts', { farm: 'home', field: 'south', hours })).body.warnings).toEqual(['No field home/south is configured (fieldhook fields add): no advice reads this forecast']);
  });
});
