import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../../services/host/http-app.js';
import type { IngestRequest } from '../../../../services/ingestor/ingest.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { buildQuantityTable } from '../../../../services/shared/quantities.js';
import { loadProfiles } from '../../../../services/ingestor/profiles/load.js';
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

  it('as InfluxDB does: the good lines are stored and 400 "partial write" names each bad line', async () => {
    const res = await write(`reading soil_moisture=0.2 ${NOW_S}\nreading soil_moisture=\ncpu usage_idle=99 ${NOW_S}\nreading soil_moisture=0.3 ${NOW_S + 1}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      code: 'invalid',
      message: expect.stringMatching(/^partial write: 2 points written, 2 dropped: line 2: unable to parse: field soil_moisture: missing value; line 3: field usage_idle .* dropped=2$/),
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.items).toEqual([
      { device: 'n-1', ts: NOW_S * 1000, values: { soil_moisture: 0.2 } },
      { device: 'n-1', ts: (NOW_S + 1) * 1000, values: { soil_moisture: 0.3 } },
    ]);
  });

  it('400 naming each bad line, nothing ingested, when no line is good', async () => {
    const unreadable = await write(`reading soil_moisture=\nreading soil_moisture=0.2 12abc`);
    expect(unreadable.statusCode).toBe(400);
    expect(unreadable.json()).toEqual({
      code: 'invalid',
      message: 'unable to parse points: line 1: field soil_moisture: missing value; line 2: invalid timestamp "12abc"',
    });
    const unmapped = await write(`reading soil_moisture=\ncpu usage_idle=99 ${NOW_S}`);
    expect(unmapped.json()).toEqual({
      code: 'invalid',
      message: expect.stringMatching(/^no point written: line 1: unable to parse: field soil_moisture: missing value; line 2: field usage_idle is not a known quantity/),
    });
    expect(requests).toHaveLength(0);
  });

  it('v1 /write answers errors in the 1.x shape Telegraf reads: {error} and X-Influxdb-Error', async () => {
    const res = await write(`reading soil_moisture=0.2 ${NOW_S}\ncpu usage_idle=99 ${NOW_S}`, token, '/write?db=x&precision=s');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.stringMatching(/^partial write: 1 points written, 1 dropped: line 2: field usage_idle/) });
    expect(res.headers['x-influxdb-error']).toMatch(/^partial write: /);
    // Any field name may be quoted: the header keeps printable ASCII, the body the name as sent.
    const named = await write(`reading 温度=1,soil_moisture=0.2 ${NOW_S}\nreading soil_moisture=0.3 ${NOW_S + 1}`, token, '/write?db=x&precision=s');
    expect(named.statusCode).toBe(400);
    expect(named.json().error).toContain('field 温度 is not a known quantity');
    expect(named.headers['x-influxdb-error']).toContain('field ?? is not a known quantity');
  });

  it('v1 /write takes Basic auth with the secret as the password (Telegraf outputs.influxdb username/password)', async () => {
    const basic = `Basic ${Buffer.from(`telegraf:${SECRETS['n-1']}`).toString('base64')}`;
    const res = await write(`reading soil_moisture=0.2 ${NOW_S}`, { authorization: basic }, '/write?db=x&precision=s');
    expect(res.statusCode).toBe(204);
    expect((await write(`reading soil_moisture=0.2 ${NOW_S}`, { authorization: basic }, '/api/v2/write?precision=s')).statusCode).toBe(401);
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

  it("takes the media types InfluxDB clients send: the Python client's octet-stream, curl's form type", async () => {
    for (const type of ['application/octet-stream', 'application/x-www-form-urlencoded']) {
      requests.length = 0;
      const res = await write(`reading,device=n-1 soil_moisture=0.2 ${NOW_S}`, { ...token, 'content-type': type }, '/api/v2/write?precision=s');
      expect(res.statusCode, type).toBe(204);
      expect(requests[0]!.items).toEqual([{ device: 'n-1', ts: NOW_S * 1000, values: { soil_moisture: 0.2 } }]);
    }
  });

  it('415 for another media type', async () => {
    const res = await write('{}', { ...token, 'content-type': 'application/json' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'unsupported media type' });
  });

  describe('through device profiles', () => {
    const profiles = loadProfiles();
    const withProfiles = async (deviceProfiles: Record<string, string> = {}) => {
      const built = readingsComponent({ profiles, deviceProfileOf: async (device) => deviceProfiles[device] });
      const profiled = buildHostApp([built.component], { logger: silentLogger() });
      await profiled.ready();
      const send = (payload: string) => profiled.inject({ method: 'POST', url: '/api/v2/write?precision=s', headers: token, payload });
      return { built, profiled, send };
    };

    it('a device that names no profile is read by the default: Telegraf openweathermap names, its other fields ignored', async () => {
      const { built, profiled, send } = await withProfiles();
      try {
        const line = `weather,city_id=2643743,forecast=0h temperature=21.5,humidity=64i,pressure=1013,wind_speed=3.2,wind_degrees=250,rain=0.4,cloudiness=75i,condition_description="light rain" ${NOW_S}`;
        expect((await send(line)).statusCode).toBe(204);
        expect(built.requests[0]!.items).toEqual([
          { device: 'n-1', ts: NOW_S * 1000, values: { air_temperature: 21.5, relative_humidity: 64, wind_speed: 3.2, rainfall: 0.4 } },
        ]);
      } finally {
        await profiled.close();
      }
    });

    it('canonical names and <measurement>_<field> come before the default profile; its units convert', async () => {
      const { built, profiled, send } = await withProfiles();
      try {
        // `soil temperature` is soil_temperature (not the default's air temperature); `soil moisture` would be soil_moisture in m3/m3.
        expect((await send(`soil temperature=18.2 ${NOW_S}\nzigbee,sensor=bed-3 moisture=23 ${NOW_S + 1}`)).statusCode).toBe(204);
        expect(built.requests[0]!.items).toEqual([
          { device: 'n-1', ts: NOW_S * 1000, values: { soil_temperature: 18.2 } },
          { device: 'n-1', ts: (NOW_S + 1) * 1000, values: { soil_moisture: 0.23 } },
        ]);
        const refused = await send(`weather temperature=21.5,ozone=3 ${NOW_S}`);
        expect(refused.statusCode).toBe(400);
        expect(refused.json().message).toMatch(/line 1: field ozone is not a known quantity \(nor is weather_ozone\), nor read by profile line-protocol/);
      } finally {
        await profiled.close();
      }
    });

    it('a device that names a profile in the registry is read by it first (Milesight EM500-SMTC through Telegraf)', async () => {
      const { built, profiled, send } = await withProfiles({ 'n-1': 'milesight-em500-smtc' });
      try {
        expect((await send(`em500 temperature=20.1,humidity=40.5,conductivity=1200i,battery=92i ${NOW_S}`)).statusCode).toBe(204);
        expect(built.requests[0]!.items).toEqual([{ device: 'n-1', ts: NOW_S * 1000, values: { soil_temperature: 20.1, soil_moisture: 0.405, soil_ec: 1.2 } }]);
      } finally {
        await profiled.close();
      }
    });

    it('a value the profile cannot read refuses its line, named', async () => {
      const { profiled, send } = await withProfiles();
      try {
        const res = await send(`weather humidity="wet" ${NOW_S}`);
        expect(res.statusCode).toBe(400);
        expect(res.json().message).toMatch(/line 1: field humidity \(relative_humidity\) holds text, not a number \(profile line-protocol\)/);
      } finally {
        await profiled.close();
      }
    });
  });

  describe('nothing partial is stored silently (property, fixed seed)', () => {
    const profiles = loadProfiles();
    // Good lines, and lines bad in each way: unreadable, unknown field, a string value, a value the default profile cannot read.
    const good = fc.record({ kind: fc.constant('good' as const), moisture: fc.double({ min: 0, max: 0.7, noNaN: true }) });
    const bad = fc.constantFrom(
      'reading soil_moisture=',
      'reading soil_moisture=0.2 12abc',
      'cpu usage_idle=99',
      'reading soil_moisture="wet"',
      'weather humidity="damp"',
      'weather pressure=1013',
      '=',
      'reading,device soil_moisture=0.1',
    );
    const body = fc.array(fc.oneof(good, bad), { minLength: 1, maxLength: 30 });

    it('every line is either stored as a reading or named in the answer; 204 only when all were stored', async () => {
      const built = readingsComponent({ profiles, deviceProfileOf: async () => undefined });
      const profiled = buildHostApp([built.component], { logger: silentLogger() });
      await profiled.ready();
      try {
        await fc.assert(
          fc.asyncProperty(body, async (lines) => {
            built.requests.length = 0;
            const text = lines.map((l, i) => (typeof l === 'string' ? l : `reading soil_moisture=${l.moisture} ${NOW_S + i}`)).join('\n');
            const res = await profiled.inject({ method: 'POST', url: '/api/v2/write?precision=s', headers: token, payload: text });
            const stored = built.requests.flatMap((r) => r.items as { ts: number }[]);
            const goodLines = lines.flatMap((l, i) => (typeof l === 'string' ? [] : [i + 1]));
            const badLines = lines.flatMap((l, i) => (typeof l === 'string' ? [i + 1] : []));
            // The good lines, and only they, reached the ingest core, each as its own reading.
            expect(stored.map((item) => item.ts)).toEqual(goodLines.map((n) => (NOW_S + n - 1) * 1000));
            if (badLines.length === 0) {
              expect(res.statusCode).toBe(204);
              return;
            }
            expect(res.statusCode).toBe(400);
            const message = (res.json() as { message: string }).message;
            if (goodLines.length > 0) {
              expect(message).toMatch(new RegExp(`^partial write: ${goodLines.length} points written, ${badLines.length} dropped: `));
              expect(message).toMatch(new RegExp(` dropped=${badLines.length}$`));
            }
            // Each bad line is named (the first five; the rest counted).
            for (const n of badLines.slice(0, 5)) expect(message).toContain(`line ${n}: `);
            if (badLines.length > 5) expect(message).toContain(`and ${badLines.length - 5} more`);
          }),
          { numRuns: 150 },
        );
      } finally {
        await profiled.close();
      }
    });
  });
});
