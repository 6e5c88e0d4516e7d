/**
 * Two full `fieldhook start` instances on one PostgreSQL, each with its embedded broker: their
 * predictors could not see each other's readings, so automatic partitions are not used there.
 * The first predictor evaluates every field (taking readings from its own spool), the second is
 * refused, naming the holder and the shared broker that would let them share; so is a predictor
 * with automatic partitions on an external broker (both would advise the same fields). That
 * broker is a Mosquitto of this file's own: the refused instance's sessions stay in its shared
 * groups, where they would take a share of other files' messages on a broker they share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

describe(`full instances with embedded brokers on one PostgreSQL (InfluxDB ${influx.kind})`, () => {
  const bucket = `embedded_predictors_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-embedded-pred-'));
  let databaseUrl: string;
  let mosquitto: RunningMosquitto | undefined;
  const running: RunningFieldhook[] = [];

  const start = (id: string, more: Record<string, string> = {}) => {
    const env = {
      DATA_DIR: join(root, id), INSTANCE_ID: id, DATABASE_URL: databaseUrl, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0',
      MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0', ...influx.settings(bucket),
      ADMIN_TOKEN: 'embedded-predictors-admin-token', PREDICT_PARTITIONS: 'auto', ...more,
    };
    return startFieldhook(loadConfig(PIPELINE_CONFIG, Object.fromEntries(Object.entries(env).map(([k, v]) => [`FIELDHOOK_${k}`, v]))), silentLogger(), { handleSignals: false });
  };
  /** The error a start is refused with (a start that succeeds is kept for the clean-up, and gives undefined). */
  const refusal = (id: string, more: Record<string, string> = {}) =>
    start(id, more).then(
      (r) => {
        running.push(r);
        return undefined;
      },
      (e: unknown) => e as { code: string; message: string },
    );

  beforeAll(async () => {
    await influx.createDatabase(bucket);
    databaseUrl = await createTestDatabase('embedded_predictors');
    mosquitto = await startMosquitto({ dir: join(root, 'mosquitto') });
  }, 60_000);

  afterAll(async () => {
    for (const r of running) await r.stop();
    await mosquitto?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('evaluates every field in the first and refuses the second predictor, naming FIELDHOOK_MQTT_URL', async () => {
    running.push(await start('embedded-a'));
    const ready = await (await fetch(`${running[0]!.url}/readyz`)).json() as { checks?: Record<string, { detail?: { partitions?: { mode: string; held: number[] } } }> };
    expect(JSON.stringify(ready)).toContain('"mode":"single"');
    const err = await refusal('embedded-b');
    expect(err, 'second predictor refused').toBeDefined();
    expect(err!.code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
    expect(err!.message).toContain('fieldhook/embedded-a');
    expect(err!.message).toContain('FIELDHOOK_MQTT_URL');
  }, 120_000);

  it('refuses a predictor with automatic partitions on an external broker while the first claims every field', async () => {
    const err = await refusal('external-auto', { PARTS: 'predictor', MQTT_URL: mosquitto!.url });
    expect(err, 'automatic predictor refused').toBeDefined();
    expect(err!.code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
    expect(err!.message).toContain('claimed in this database by fieldhook/embedded-a (partition 0)');
  }, 120_000);
});
