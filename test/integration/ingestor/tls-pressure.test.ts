import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { Agent, request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { freePort } from '../../../infra/harness/process.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { countPoints, createIngestFixture, reading } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { selfSigned } from '../../helpers/self-signed.js';
import { startOwnInflux, testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();


describe(`TLS (InfluxDB ${influx.kind})`, () => {
  it('serves HTTPS and MQTT over TLS with the configured certificate', async () => {
    const database = `tls_${process.pid}`;
    await influx.createDatabase(database);
    const tls = selfSigned();
    const tlsPort = await freePort();
    const fx = createIngestFixture({
      database,
      config: { TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile, MQTT_TLS_PORT: String(tlsPort), MQTT_LISTEN_HOST: '0.0.0.0' },
    });
    const { secret } = await fx.devices.add({ id: 't-1', farm: 'farm-t', field: 'f', kind: 'device' });
    await fx.ingestor.start();
    const https = buildHostApp([fx.ingestor], { logger: silentLogger(), tls: { certFile: tls.certFile, keyFile: tls.keyFile } });
    const url = await https.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect(url).toMatch(/^https:/);
      const base = Date.parse('2026-11-22T00:00:00Z');
      const res = await request(`${url}/v1/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(reading('t-1', 1, base)),
        dispatcher: new Agent({ connect: { ca: tls.ca } }),
      });
      expect(res.statusCode).toBe(202);
      await res.body.dump();

      const client = await connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { username: 't-1', password: secret, clientId: 't-1', ca: tls.ca, reconnectPeriod: 0 });
      await client.publishAsync('fieldhook/v1/devices/t-1/readings', JSON.stringify(reading('t-1', 2, base)), { qos: 1 });
      await client.endAsync();
      await eventually(async () => (await countPoints(database)) === 2);

      // Plain MQTT stays on loopback for fieldhook's own parts: from this machine's other
      // addresses, only TLS answers.
      const plainPort = Number(new URL(fx.ingestor.busConnection('bus').url).port);
      const outside = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (outside) {
        await expect(new Promise((resolve, reject) => connect(plainPort, outside).once('connect', resolve).once('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        await new Promise<void>((resolve, reject) => { const s = connect(tlsPort, outside).once('connect', () => (s.destroy(), resolve())).once('error', reject); });
      }
    } finally {
      await https.close();
      await fx.close();
    }
  });
});

describe(`MQTT backpressure (InfluxDB ${influx.kind})`, () => {
  it('withholds the PUBACK while the spool budget is spent, and sends it once InfluxDB drains it', async () => {
    // An InfluxDB of the test's own (of the project's version), to stop and start again.
    const own = await startOwnInflux(mkdtempSync(join(tmpdir(), 'fieldhook-pressure-')));
    const pressured = own.influx;
    await pressured.createDatabase('pressure');
    const fx = createIngestFixture({
      influx: pressured,
      database: 'pressure',
      config: { SPOOL_HIGH_WATER_BYTES: '500', SPOOL_BUDGET_BYTES: '2000', INGEST_RATE_LIMIT_PER_MINUTE: '0' },
    });
    const { secret } = await fx.devices.add({ id: 'q-1', farm: 'farm-q', field: 'f', kind: 'device' });
    await fx.ingestor.start();
    try {
      // An outage long enough to spend the disk budget.
      await own.stop();
      const base = Date.parse('2026-11-23T00:00:00Z');
      const first = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: reading('q-1', -1, base) });
      expect(first.statusCode).toBe(202);
      await eventually(async () => !fx.ingestor.writerHealthy());
      let sent = 0;
      for (let status = 202; status === 202; sent += 5) {
        const res = await fx.app.inject({
          method: 'POST',
          url: '/v1/readings',
          headers: { authorization: `Bearer ${secret}` },
          payload: Array.from({ length: 5 }, (_, i) => reading('q-1', sent + i, base)),
        });
        status = res.statusCode;
        if (status !== 202) expect(res.json()).toMatchObject({ code: 'FH_ERR_INGEST_SPOOL_FULL' });
      }
      const accepted = sent - 5;
      expect(fx.ingestor.ingest.pressure()).toBe('full');

      const client = await connectAsync(fx.ingestor.busConnection('bus').url, { username: 'q-1', password: secret, clientId: 'q-1' });
      // The ingestor's capacity checks: the MQTT path polls them while it holds a message.
      const pressure = vi.spyOn(fx.ingestor.ingest, 'pressure');
      let acked = false;
      const publish = client.publishAsync('fieldhook/v1/devices/q-1/readings', JSON.stringify(reading('q-1', 10_000, base)), { qos: 1 }).then(() => {
        acked = true;
      });
      // Nothing can drain while InfluxDB is down: the device must not get its PUBACK. Once the
      // ingestor has the message and has found the spool still full on a second look, it holds it.
      await eventually(() => pressure.mock.results.filter((r) => r.value === 'full').length >= 2, { what: 'the ingestor holding the message' });
      expect(acked).toBe(false);
      pressure.mockRestore();

      await own.restart();
      await publish;
      expect(acked).toBe(true);
      await eventually(async () => (await countPoints('pressure', '', pressured)) === accepted + 2, { timeoutMs: 20_000 });
      await client.endAsync();
    } finally {
      await fx.close();
      await own.stop();
    }
    // InfluxDB is started, stopped and started again: on a busy machine that alone takes half a minute.
  }, 90_000);
});
