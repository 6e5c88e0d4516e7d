/**
 * `fieldhook start` and its DATA_DIR: the folder holds device secrets and webhook signing secrets in
 * clear, so the parts create it 0700 and their SQLite files (with -wal and -shm) 0600, and the
 * start warns about anything there that other users may read.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modeOf as modeBits, usualUmask } from '../../helpers/file-modes.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook } from '../../../services/host/fieldhook.js';
import { loadConfig } from '../../../services/shared/config.js';
import { eventually } from '../../helpers/eventually.js';
import { captureLogger } from '../../helpers/capture-logger.js';
import { testInflux } from '../../helpers/test-influx.js';
import { asEnvironment } from '../../helpers/settings.js';

const influx = testInflux();

const ADMIN_TOKEN = 'data-dir-admin-token-0123';
const modeOf = (path: string) => modeBits(path).toString(8);

describe(`fieldhook start: DATA_DIR is private (InfluxDB ${influx.kind})`, () => {
  const database = `data_dir_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-data-dir-'));
  const dataDir = join(root, 'state', '.fieldhook');
  let restoreUmask: () => void;

  const start = (logger: ReturnType<typeof captureLogger>['logger']) => {
    const env = {
      DATA_DIR: dataDir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      ...influx.settings(database), ADMIN_TOKEN, WEBHOOK_ALLOW_CIDRS: '{"*":["127.0.0.1/32"]}',
    };
    const config = loadConfig(PIPELINE_CONFIG, asEnvironment(env));
    return startFieldhook(config, logger, { handleSignals: false });
  };

  beforeAll(async () => {
    // The usual umask, so that a mode fieldhook does not set itself would show as 0755/0644.
    restoreUmask = usualUmask();
    await influx.createDatabase(database);
  });

  afterAll(() => {
    restoreUmask();
    rmSync(root, { recursive: true, force: true });
  });

  it('creates DATA_DIR 0700 and every database, -wal and -shm file 0600, without a warning', async () => {
    const { lines, logger } = captureLogger('warn');
    const pipeline = await start(logger);
    try {
      // A webhook subscription: a signing secret goes to disk.
      const res = await fetch(`${pipeline.url}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['irrigation.*'] }),
      });
      expect(res.status).toBe(201);

      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(join(root, 'state'))).toBe('700');
      // The spool opens its database in its worker thread, shortly after the start.
      const files = await eventually(
        () => {
          const present = readdirSync(dataDir).sort();
          for (const db of ['registry.db', 'spool.db', 'dispatch.sqlite', 'predictor.db']) {
            expect(present).toEqual(expect.arrayContaining([db, `${db}-wal`, `${db}-shm`]));
          }
          return present;
        },
        { what: 'every database with its -wal and -shm' },
      );
      expect(files.map((file) => [file, modeOf(join(dataDir, file))])).toEqual(files.map((file) => [file, '600']));
    } finally {
      await pipeline.stop();
    }
    expect(lines.filter((line) => line.path !== undefined)).toEqual([]);
  }, 60_000);

  it('warns at start about a DATA_DIR or a file there that other users may read, naming the path and its mode', async () => {
    // Root ignores modes when reading, so the test makes them loose itself rather than trying to read.
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'registry.db'), 0o644);
    const { lines, logger } = captureLogger('warn');
    const pipeline = await start(logger);
    await pipeline.stop();
    expect(lines.filter((line) => line.path !== undefined)).toEqual([
      expect.objectContaining({ level: 40, path: dataDir, mode: '0755', msg: expect.stringContaining(`${dataDir} has mode 0755`) }),
      expect.objectContaining({ level: 40, path: join(dataDir, 'registry.db'), mode: '0644' }),
    ]);
  }, 60_000);
});
