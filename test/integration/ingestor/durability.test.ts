import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess, type ManagedProcess } from '../../../infra/harness/process.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { countPoints, createIngestFixture, reading } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { startOwnInflux, testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

describe(`nothing acknowledged is lost (InfluxDB ${influx.kind})`, () => {
  it('keeps acknowledging through an InfluxDB outage and writes everything once it is back', async () => {
    // An InfluxDB of the test's own (of the project's version), to stop and start again.
    const own = await startOwnInflux(mkdtempSync(join(tmpdir(), 'fieldhook-outage-')));
    const outage = own.influx;
    await outage.createDatabase('outage');
    const fx = createIngestFixture({ influx: outage, database: 'outage', config: { INGEST_RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      const { secret } = await fx.devices.add({ id: 'o-1', farm: 'farm-o', field: 'f', kind: 'device' });
      await fx.ingestor.start();
      const base = Date.parse('2026-11-20T00:00:00Z');
      const send = (from: number) =>
        fx.app.inject({
          method: 'POST',
          url: '/v1/readings',
          headers: { authorization: `Bearer ${secret}` },
          payload: Array.from({ length: 50 }, (_, i) => reading('o-1', from + i, base)),
        });

      expect((await send(0)).statusCode).toBe(202);
      await eventually(async () => (await countPoints('outage', '', outage)) === 50);
      // Stored is not yet acknowledged: a write InfluxDB applied but answered after the client's
      // timeout (a loaded machine) is written again. The outage starts once the cursor moved.
      await eventually(async () => (await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings === 0, { what: 'the first batch acknowledged by InfluxDB' });

      await own.stop();
      for (let batch = 1; batch <= 4; batch++) expect((await send(batch * 50)).statusCode).toBe(202);
      const ready = await fx.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks[0]).toMatchObject({ name: 'influxdb', ok: false });
      await eventually(async () => !fx.ingestor.writerHealthy());
      expect((await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings).toBe(200);

      await own.restart();
      await eventually(async () => (await countPoints('outage', '', outage)) === 250, { timeoutMs: 20_000 });
      // The cursor moves right after InfluxDB's answer: allow that moment.
      await eventually(async () => (await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings === 0);
    } finally {
      await fx.close();
      await own.stop();
    }
    // Two InfluxDB starts and a stop: on a busy machine they alone can take half a minute.
  }, 90_000);

  it('after SIGKILL mid-stream and a restart, InfluxDB holds exactly the acknowledged readings', async () => {
    const database = `sigkill_${process.pid}`;
    await influx.createDatabase(database);
    const dataDir = mkdtempSync(join(tmpdir(), 'fieldhook-kill-'));
    const devices = createSqliteDeviceRepository(join(dataDir, 'registry.db'));
    const { secret } = await devices.add({ id: 'k-1', farm: 'farm-k', field: 'f', kind: 'device' });
    devices.close();

    const port = await freePort();
    const env = {
      ...process.env,
      FIELDHOOK_DATA_DIR: dataDir,
      FIELDHOOK_HTTP_HOST: '127.0.0.1',
      FIELDHOOK_HTTP_PORT: String(port),
      FIELDHOOK_MQTT_LISTEN_HOST: '127.0.0.1',
      FIELDHOOK_MQTT_LISTEN_PORT: String(await freePort()),
      ...influx.env(database),
      FIELDHOOK_INGEST_RATE_LIMIT_PER_MINUTE: '0',
      FIELDHOOK_LOG_LEVEL: 'warn',
    };
    const start = (): ManagedProcess => startProcess(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start'], env);
    const up = () => eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { timeoutMs: 30_000, what: 'fieldhook to answer /healthz' });

    // A device that retries each batch until it is acknowledged, as sensor firmware does.
    const BATCHES = 60;
    const base = Date.parse('2026-11-21T00:00:00Z');
    let acknowledged = 0;
    async function sendAll(): Promise<void> {
      for (let b = 0; b < BATCHES; b++) {
        const body = JSON.stringify(Array.from({ length: 10 }, (_, i) => reading('k-1', b * 10 + i, base)));
        for (;;) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/v1/readings`, {
              method: 'POST',
              headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
              body,
            });
            if (res.status === 202) {
              const outcome = (await res.json()) as { accepted: number; duplicates: number };
              acknowledged += outcome.accepted + outcome.duplicates === 10 ? 10 : 0;
              break;
            }
          } catch {
            // connection refused or reset: the ingestor is down; try again once it answers.
          }
          await up();
        }
      }
    }

    let ingestor = start();
    try {
      await up();
      const sending = sendAll();
      await eventually(() => acknowledged >= 150, { timeoutMs: 30_000, what: 'first acknowledgements' });
      await ingestor.stop('SIGKILL');
      const ackedAtKill = acknowledged;
      ingestor = start();
      await up();
      await sending;
      expect(ackedAtKill).toBeLessThan(BATCHES * 10);
      expect(acknowledged).toBe(BATCHES * 10);
      await eventually(async () => (await countPoints(database)) === BATCHES * 10, { timeoutMs: 20_000 });
      // And no more than that: once the writer has nothing left in the spool, nothing extra can arrive.
      const influxBacklog = /^fieldhook_spool_depth_readings\{consumer="influx"\} (\d+)$/m;
      await eventually(async () => influxBacklog.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1] === '0', {
        what: 'the spool drained to InfluxDB',
      });
      expect(await countPoints(database)).toBe(BATCHES * 10);
    } finally {
      await ingestor.stop();
    }
  }, 90_000);
});
