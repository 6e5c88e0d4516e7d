import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerPredictorCommands } from '../../../services/cli/commands/predictor.js';
import { createSqliteForecasts } from '../../../services/forecasts/store.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const dir = mkdtempSync(join(tmpdir(), 'fh-predict-cli-'));
const database = `predict_cli_${process.pid}`;

beforeAll(async () => {
  await influx.createDatabase(database);
  vi.stubEnv('FIELDHOOK_DATA_DIR', dir);
  for (const [key, value] of Object.entries(influx.env(database))) vi.stubEnv(key, value);
  const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
  await devices.add({ id: 'node-1', farm: 'farm1', field: 'north', kind: 'device', location: { latitude: 44.5, longitude: 11.3, elevation: 40 }, profile: { soil: 'silt-loam', windHeightM: 3 } });
  devices.close();
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** Run `fieldhook <args>` with the predictor commands; returns what it printed, parsed. */
async function cli(...args: string[]): Promise<any> {
  const program = new Command('fieldhook').exitOverride();
  registerPredictorCommands(program);
  let printed = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'fieldhook', ...args]);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(printed);
}

describe(`fieldhook fields | predict (InfluxDB ${influx.kind})`, () => {
  it('adds a field with its site, soil and anemometer height from the device registry', async () => {
    const added = await cli('fields', 'add', 'farm1', 'north', '--crop', 'maize-sweet', '--sowing-date', '2026-05-01', '--efficiency', '0.75');
    expect(added).toMatchObject({ farm: 'farm1', field: 'north', latitudeDeg: 44.5, longitudeDeg: 11.3, elevationM: 40, soil: 'silt-loam', windHeightM: 3, efficiency: 0.75 });
    const shown = await cli('fields', 'show', 'farm1', 'north');
    expect(shown.profile).toMatchObject({ thetaFc: 0.29, thetaWp: 0.15, rootDepthM: 0.9, tzLongitudeDeg: 15 });
    const updated = await cli('fields', 'update', 'farm1', 'north', '--fc', '0.31', '--wp', '0.14');
    expect(updated).toMatchObject({ thetaFc: 0.31, thetaWp: 0.14 });
    expect((await cli('fields', 'list')).map((f: { field: string }) => f.field)).toEqual(['north']);
    await expect(cli('fields', 'add', 'farm1', 'south', '--crop', 'maize-sweet', '--sowing-date', '2026-05-01')).rejects.toMatchObject({ code: 'FH_ERR_FIELD_INVALID' });
  });

  it('takes the crop\'s development from flags: stage lengths, Kc, root depths; refuses impossible ones', async () => {
    const updated = await cli('fields', 'update', 'farm1', 'north', '--stage-days', '15,30,30,10', '--root-min-depth', '0.2', '--root-depth', '1.4');
    expect(updated).toMatchObject({ kc: { stageDays: [15, 30, 30, 10] }, rootDepthMinM: 0.2, rootDepthM: 1.4 });
    // --kc changes the coefficients and keeps the stage lengths given before.
    expect(await cli('fields', 'update', 'farm1', 'north', '--kc', '0.35,1.2,1.0')).toMatchObject({ kc: { kcIni: 0.35, kcMid: 1.2, kcEnd: 1.0, stageDays: [15, 30, 30, 10] } });
    const shown = await cli('fields', 'show', 'farm1', 'north');
    expect(shown.profile).toMatchObject({ rootDepthM: 1.4, rootDepthMinM: 0.2, crop: { kcIni: 0.35, stageDays: [15, 30, 30, 10] } });
    await expect(cli('fields', 'update', 'farm1', 'north', '--stage-days', '15,30,0,10')).rejects.toMatchObject({ code: 'FH_ERR_FIELD_INVALID' });
    await expect(cli('fields', 'update', 'farm1', 'north', '--root-min-depth', '2')).rejects.toMatchObject({ code: 'FH_ERR_FIELD_INVALID' });
    await expect(cli('fields', 'update', 'farm1', 'north', '--stage-days', '15,30')).rejects.toMatchObject({ code: 'FH_ERR_CLI_INVALID' });
    // Back to the preset's stages and depths for the tests below.
    await cli('fields', 'update', 'farm1', 'north', '--stage-days', '20,25,25,10', '--kc', '0.3,1.15,1.05', '--root-min-depth', '0.15', '--root-depth', '0.9');
  });

  it('fields update --harvested ends the season: predict says so and would send nothing', async () => {
    const sowing = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
    expect(await cli('fields', 'update', 'farm1', 'north', '--sowing-date', sowing)).not.toHaveProperty('harvestedOn');
    const harvested = await cli('fields', 'update', 'farm1', 'north', '--harvested');
    expect(harvested.harvestedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const out = await cli('predict', '--field', 'farm1/north');
    expect(out).toMatchObject({ assessment: { kind: 'off-season', reason: `harvested ${harvested.harvestedOn}` }, would_emit: null, net_depth_mm: 0 });
    await expect(cli('fields', 'update', 'farm1', 'north', '--harvested', '2001-01-01')).rejects.toMatchObject({ code: 'FH_ERR_FIELD_INVALID' });
    // The coming season's sowing date: nothing to advise on bare soil until then.
    const coming = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await cli('fields', 'update', 'farm1', 'north', '--sowing-date', coming);
    expect(await cli('predict', '--field', 'farm1/north')).toMatchObject({ assessment: { kind: 'off-season', reason: `not sown yet (sowing ${coming})` }, would_emit: null });
    // More than a year ahead is a typo (2126 for 2026), refused where it is typed.
    const typo = `${Number(coming.slice(0, 4)) + 100}${coming.slice(4)}`;
    await expect(cli('fields', 'update', 'farm1', 'north', '--sowing-date', typo)).rejects.toMatchObject({ code: 'FH_ERR_FIELD_INVALID', message: expect.stringContaining('more than a year ahead') });
    await expect(cli('fields', 'add', 'farm1', 'later', '--crop', 'tomato', '--sowing-date', typo)).rejects.toMatchObject({ code: 'FH_ERR_FIELD_INVALID', message: expect.stringContaining('more than a year ahead') });
    // A new sowing date starts a new season and forgets the harvest.
    expect(await cli('fields', 'update', 'farm1', 'north', '--sowing-date', sowing)).not.toHaveProperty('harvestedOn');
  });

  it('predict reports a field without readings as stale, with the model that would judge it', async () => {
    const out = await cli('predict', '--field', 'farm1/north');
    expect(out).toMatchObject({ field: 'farm1/north', assessment: { kind: 'stale', reason: 'no readings' }, would_emit: 'sensor.stale' });
    expect(out.provenance.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(cli('predict', '--field', 'farm1/nowhere')).rejects.toMatchObject({ code: 'FH_ERR_FIELD_NOT_FOUND' });
  });

  it('predict reads the weather ahead the running pipeline stores, as the pipeline does', async () => {
    const H = 3_600_000;
    const now = Math.floor(Date.now() / H) * H;
    // Three days of hourly readings up to now: soil drying slowly, a diurnal air temperature.
    const lines = Array.from({ length: 72 }, (_, i) => {
      const ts = now - (71 - i) * H;
      const hour = new Date(ts).getUTCHours();
      const sun = Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI));
      return `reading,device=node-1,farm=farm1,field=north soil_moisture=${(0.27 - i * 0.0005).toFixed(4)},air_temperature=${(18 + 8 * sun).toFixed(1)},relative_humidity=60,wind_speed=2,solar_radiation=${(700 * sun).toFixed(0)},rain=0 ${ts}`;
    });
    const written = await fetch(`${influx.url}/write?db=${database}&precision=ms`, { method: 'POST', headers: influx.headers, body: lines.join('\n') });
    expect(written.status).toBe(204);
    const before = await cli('predict', '--field', 'farm1/north');
    expect(before.assessment.kind).toBe('ok');
    expect(before.provenance.features).toMatchObject({ forecast_available: 0, forecast_rain_24h_mm: 0 });
    // Where `fieldhook start` keeps the forecasts it was sent or pulled.
    const store = createSqliteForecasts(join(dir, 'forecasts.db'));
    await store.save({ farm: 'farm1', field: 'north', issuedAt: now, source: 'api', hours: Array.from({ length: 24 }, (_, i) => ({ ts: now + (i + 1) * H, rainMm: i < 4 ? 5 : 0, rainProbability: 0.8 })) });
    store.close();
    const after = await cli('predict', '--field', 'farm1/north');
    // 16 mm expected in the next hours, less what falls before the features' hour begins.
    expect(after.provenance.features.forecast_available).toBe(1);
    expect(after.provenance.features.forecast_rain_24h_mm).toBeGreaterThan(8);
  });

  it('replays a range of history into points apart from the live ones, without publishing', async () => {
    // Five days ago: in the season (sown ten days ago), before the readings of the test above.
    const from = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 86_400_000;
    const summary = await cli('replay', '--from', new Date(from).toISOString(), '--to', new Date(from + 3 * 3_600_000).toISOString(), '--field', 'farm1/north');
    expect(summary).toEqual({ fields: 1, evaluations: 4, events: { 'sensor.stale': 1 }, published: 0 });
    const count = async (measurement: string) => {
      const q = new URLSearchParams({ db: database, q: `SELECT count("stale") FROM "${measurement}" WHERE "field" = 'north'` });
      const body = (await (await fetch(`${influx.url}/query?${q}`, { headers: influx.headers })).json()) as { results: { series?: { values: number[][] }[] }[] };
      return body.results[0]!.series?.[0]!.values[0]![1] ?? 0;
    };
    expect(await count('recommendation_replay')).toBe(4);
    expect(await count('recommendation')).toBe(0);
    // There is no history after now to replay.
    await expect(cli('replay', '--from', new Date(from).toISOString(), '--to', new Date(Date.now() + 86_400_000).toISOString(), '--field', 'farm1/north')).rejects.toMatchObject({ code: 'FH_ERR_PREDICT_INVALID_RANGE' });
    // Times with their zone, as everywhere: one without would shift with the machine's.
    await expect(cli('replay', '--from', '2026-11-01T00:00', '--to', '2026-11-01T03:00Z', '--field', 'farm1/north')).rejects.toMatchObject({ code: 'FH_ERR_CLI_INVALID' });
  });
});
