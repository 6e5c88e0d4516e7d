import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { Agent, request } from 'undici';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../infra/harness/process.js';
import { buildHttpApp } from '../../services/pipeline/http-app.js';
import { silentLogger } from '../../services/shared/logger.js';
import { countPoints, createDatabase, createIngestFixture, eventually, reading } from '../helpers/ingest-fixture.js';

const influxUrl = inject('influxUrl');

/** A throw-away self-signed certificate for 127.0.0.1. */
function selfSigned(): { certFile: string; keyFile: string; ca: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'fieldhook-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { certFile, keyFile, ca: readFileSync(certFile) };
}

describe('TLS', () => {
  it('serves HTTPS and MQTT over TLS with the configured certificate', async () => {
    const database = `tls_${process.pid}`;
    await createDatabase(influxUrl, database);
    const tls = selfSigned();
    const tlsPort = await freePort();
    const fx = createIngestFixture({
      influxUrl,
      database,
      config: { TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile, MQTT_TLS_PORT: String(tlsPort) },
    });
    const { secret } = await fx.devices.add({ id: 't-1', farm: 'farm-t', field: 'f', kind: 'device' });
    await fx.ingestor.start();
    const https = buildHttpApp({ logger: silentLogger(), plugins: [fx.ingestor.routes], tls: { certFile: tls.certFile, keyFile: tls.keyFile } });
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

      const client = await connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { username: 't-1', password: secret, ca: tls.ca, reconnectPeriod: 0 });
      await client.publishAsync('fieldhook/v1/devices/t-1/readings', JSON.stringify(reading('t-1', 2, base)), { qos: 1 });
      await client.endAsync();
      await eventually(async () => (await countPoints(influxUrl, database)) === 2);
    } finally {
      await https.close();
      await fx.close();
    }
  });
});

describe('MQTT backpressure', () => {
  it('withholds the PUBACK while the spool is above its high-water mark, and sends it once drained', async () => {
    const database = `mqttpressure_${process.pid}`;
    await createDatabase(influxUrl, database);
    const fx = createIngestFixture({ influxUrl, database, config: { SPOOL_HIGH_WATER_BYTES: '500', SPOOL_BUDGET_BYTES: '100000' } });
    const { secret } = await fx.devices.add({ id: 'q-1', farm: 'farm-q', field: 'f', kind: 'device' });
    // Fill the spool past the mark over HTTP, with InfluxDB healthy but the ingestor not yet started
    // for writing: the writer is what drains it.
    const base = Date.parse('2026-11-23T00:00:00Z');
    const fill = await fx.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers: { authorization: `Bearer ${secret}` },
      payload: Array.from({ length: 20 }, (_, i) => reading('q-1', i, base)),
    });
    expect(fill.statusCode).toBe(202);
    expect(fx.ingestor.ingest.pressure()).toBe('high');

    await fx.ingestor.start();
    const client = await connectAsync(fx.ingestor.busConnection().url, { username: 'q-1', password: secret });
    // Watch when the writer's drain brings the spool back under the mark…
    let drainedAt = 0;
    const watch = setInterval(() => {
      if (!drainedAt && fx.ingestor.ingest.pressure() === 'ok') drainedAt = performance.now();
    }, 2);
    const publishedUnderPressure = fx.ingestor.ingest.pressure() === 'high';
    await client.publishAsync('fieldhook/v1/devices/q-1/readings', JSON.stringify(reading('q-1', 100, base)), { qos: 1 });
    const ackedAt = performance.now();
    clearInterval(watch);
    // …and that the PUBACK came only after it.
    expect(publishedUnderPressure).toBe(true);
    expect(drainedAt).toBeGreaterThan(0);
    expect(ackedAt).toBeGreaterThanOrEqual(drainedAt);
    await eventually(async () => (await countPoints(influxUrl, database)) === 21);
    await client.endAsync();
    await fx.close();
  });
});
