/**
 * The demo farm seeded into a fieldhook whose control plane is PostgreSQL
 * (FIELDHOOK_DATABASE_URL, the run's real server): its devices and field profiles are registered
 * in that database, where the running pipeline authenticates the back-fill, and no SQLite
 * registry or predictor file appears in the data folder.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoFarm, type SeededFarm } from '../../../services/demo/seed.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';
import { asEnvironment } from '../../helpers/settings.js';

const influx = testInflux();

describe(`fieldhook demo on PostgreSQL (InfluxDB ${influx.kind})`, () => {
  const database = `demo_pg_${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'fh-demo-pg-'));
  let databaseUrl: string;
  let pipeline: RunningFieldhook;
  let farm: SeededFarm;
  let sql: pg.Client;

  beforeAll(async () => {
    await influx.createDatabase(database);
    databaseUrl = await createTestDatabase('demo_pg');
    const env = {
      DATA_DIR: dataDir, DATABASE_URL: databaseUrl, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      ...influx.settings(database), ADMIN_TOKEN: 'demo-pg-admin-token-0123', PREDICT_INTERVAL_MS: '1000',
    };
    const config = loadConfig(PIPELINE_CONFIG, asEnvironment(env));
    pipeline = await startFieldhook(config, silentLogger(), { handleSignals: false });
    // A short history: what is checked here is where the farm is registered, not the advice.
    farm = await seedDemoFarm({ dataDir, databaseUrl: config.DATABASE_URL, httpUrl: pipeline.url, historyHours: 6 });
    sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await farm?.fleet.stop();
    await pipeline?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers the devices and field profiles in PostgreSQL, and the pipeline takes the back-fill with them', async () => {
    const devices = await sql.query<{ id: string; field: string }>("SELECT id, field FROM devices WHERE farm = 'demo' ORDER BY id");
    expect(devices.rows.map((d) => `${d.field}:${d.id}`).sort()).toEqual(farm.fields.map((f) => `${f.field}:${f.device}`).sort());
    const profiles = await sql.query<{ field: string }>("SELECT field FROM field_profile WHERE farm = 'demo'");
    expect(profiles.rows.map((p) => p.field).sort()).toEqual(farm.fields.map((f) => f.field).sort());
    // Authenticated by the PostgreSQL registry: every device's readings are in InfluxDB.
    expect(farm.backfilled).toBeGreaterThan(0);
    const counted = await influx.query<{ results: { series?: { tags?: Record<string, string> }[] }[] }>(database, "SELECT count(soil_moisture) FROM reading WHERE farm='demo' GROUP BY device");
    expect((counted.results[0]?.series ?? []).map((s) => s.tags?.device).sort()).toEqual(farm.fields.map((f) => f.device).sort());
    expect(existsSync(join(dataDir, 'registry.db'))).toBe(false);
    expect(existsSync(join(dataDir, 'predictor.db'))).toBe(false);
  });

});
