import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../../services/host/http-app.js';
import type { IngestRequest } from '../../../../services/ingestor/ingest.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { buildQuantityTable } from '../../../../services/shared/quantities.js';
import { SECRETS, readingsComponent } from '../../../helpers/readings-app.js';

const NOW_S = Math.floor(Date.now() / 1000);

describe('line protocol routes: /api/v2/write and /write', () => {
  let app: FastifyInstance;
  let requests: IngestRequest[];

  beforeEach(async () => {
    const built = readingsComponent();
    requests = built.requests;
    app = buildHostApp([built.component], { logger: silentLogger() });
    await app.ready();
  });
  afterEach(() => app.close());

  const token = { authorization: `Token ${SECRETS['n-1']}`, 'content-type': 'text/plain; charset=utf-8' };
  const write = (payload: string | Buffer, headers: Record<string, string> = token, url = '/api/v2/write?org=o&bucket=b&precision=s') =>
    app.inject({ method: 'POST', url, headers, payload });

  it('204 after ingest: canonical fields and <measurement>_<field>, timestamps in the precision, device from the credential', async () => {
    const res = await write(`reading soil_moisture=0.23,air_temperature=21.4 ${NOW_S}\nsoil moisture=0.3 ${NOW_S + 1}`);
    expect(res.statusCode).toBe(204);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.items).toEqual([
      { device: 'n-1', ts: NOW_S * 1000, values: { soil_moisture: 0.23, air_temperature: 21.4 } },
      { device: 'n-1', ts: (NOW_S + 1) * 1000, values: { soil_moisture: 0.3 } },
    ]);
  });

  it('default precision ns; no timestamp is the server time', async () => {
    const before = Date.now();
    expect((await write(`reading soil_moisture=0.2 ${BigInt(NOW_S) * 1_000_000_000n}\nreading soil_moisture=0.1`, token, '/api/v2/write')).statusCode).toBe(204);
    const items = requests[0]!.items as { ts: number }[];
    expect(items[0]!.ts).toBe(NOW_S * 1000);
    expect(items[1]!.ts).toBeGreaterThanOrEqual(before);
  });

  it('accepts Bearer, no content type, and gzip bodies', async () => {
    const body = gzipSync(`reading soil_moisture=0.2 ${NOW_S}`);
    const res = await write(body, { authorization: `Bearer ${SECRETS['n-1']}`, 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(204);
    expect(requests).toHaveLength(1);
  });

  it('413 when a gzip body inflates beyond the limit, without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(10_000_000, 'a'));
    const res = await write(bomb, { ...token, 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'request too large' });
  });

  it('400 invalid naming the first bad line; nothing ingested', async () => {
    const res = await write(`reading soil_moisture=0.2 ${NOW_S}\nreading soil_moisture=`);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ code: 'invalid', message: expect.stringContaining('line 2: ') });
    expect(requests).toHaveLength(0);
  });

  it('400 for a field that is no canonical quantity, with its line', async () => {
    const res = await write(`reading soil_moisture=0.2 ${NOW_S}\ncpu usage_idle=99 ${NOW_S}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/line 2: field usage_idle/);
  });

  it('maps fields onto the quantities the configuration declares, as the native format does', async () => {
    const built = readingsComponent({ quantities: buildQuantityTable({ canopy_temperature: { unit: 'degC', min: -50, max: 80 } }) });
    const declared = buildHostApp([built.component], { logger: silentLogger() });
    try {
      const res = await declared.inject({ method: 'POST', url: '/api/v2/write?precision=s', headers: token, payload: `canopy temperature=24.5 ${NOW_S}` });
      expect(res.statusCode).toBe(204);
      expect(built.requests[0]!.items).toEqual([{ device: 'n-1', ts: NOW_S * 1000, values: { canopy_temperature: 24.5 } }]);
      // Without the declaration the same line is refused.
      expect((await write(`canopy temperature=24.5 ${NOW_S}`)).statusCode).toBe(400);
    } finally {
      await declared.close();
    }
  });

  it('401 unauthorized in InfluxDB shape: none, malformed, unknown', async () => {
    const cases: Record<string, string>[] = [{ 'content-type': 'text/plain' }, { authorization: 'Basic x' }, { authorization: 'Token nope' }];
    for (const headers of cases) {
      const res = await write('reading soil_moisture=0.2', headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ code: 'unauthorized', message: expect.any(String) });
    }
  });

  it('v1 /write: precision names, the secret as p, the device tag', async () => {
    const res = await write(`reading,device=n-1 soil_moisture=0.2 ${NOW_S * 1000}`, { 'content-type': 'text/plain' }, `/write?db=x&precision=ms&u=any&p=${encodeURIComponent(SECRETS['n-1'])}`);
    expect(res.statusCode).toBe(204);
    expect(requests[0]!.items).toEqual([{ device: 'n-1', ts: NOW_S * 1000, values: { soil_moisture: 0.2 } }]);
    expect((await write('reading soil_moisture=0.2', token, '/write?precision=h')).statusCode).toBe(400);
  });

  it('415 for another media type', async () => {
    const res = await write('{}', { ...token, 'content-type': 'application/json' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'unsupported media type' });
  });
});
