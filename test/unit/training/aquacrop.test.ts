import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { rootDepthOn } from '../../../services/agronomy/index.js';
import { DEFAULT_EVALUATOR_OPTIONS } from '../../../services/predictor/evaluator.js';
import { validateFieldSettings } from '../../../services/predictor/field-profiles.js';
import { identityOf } from '../../../services/predictor/model-holder.js';
import { evaluateAquaCrop, METHOD_LABELS, METHODS, REAL_ROOT_LIST } from '../../../services/training/aquacrop/evaluate.js';
import { DAYLIGHT_WEIGHTS, spreadDay, stageDaysOfSeason, traceOfSeason } from '../../../services/training/aquacrop/hourly.js';
import { adviceTable, causesTable, forecastByCropTable, forecastTable, goalsLine, goalsOf, rainAheadTable, realRootsTable } from '../../../services/training/aquacrop/report.js';
import { loadAquaSeasons, type AquaSeason } from '../../../services/training/aquacrop/seasons.js';

const HOUR_MS = 3_600_000;

describe('AquaCrop seasons as hourly field traces', () => {
  const seasons = loadAquaSeasons();

  it('reads the committed seasons: at least two sites, three crops and three soils, each day with its compartments', () => {
    expect(new Set(seasons.map((s) => s.meta.site)).size).toBeGreaterThanOrEqual(2);
    expect(new Set(seasons.map((s) => s.meta.crop))).toEqual(new Set(['maize', 'tomato', 'potato']));
    expect(new Set(seasons.map((s) => s.meta.soil)).size).toBeGreaterThanOrEqual(3);
    for (const s of seasons) {
      expect(s.days).toHaveLength(s.meta.days);
      expect(s.days[0]!.theta).toHaveLength(s.soil.dz.length);
    }
  });

  it('spreads a day over its hours and ends exactly on AquaCrop\'s value', () => {
    const water = Array.from({ length: 24 }, (_, h) => (h === 16 ? 1 : 0));
    const dry = spreadDay(10, 14, 0, water);
    expect(dry[5]).toBe(10); // nothing dries before 06:00
    expect(dry[23]).toBe(14);
    const wet = spreadDay(30, 12, 20, water);
    // 2 mm dried on the daylight weights around 20 mm entering at 16:00–17:00.
    const dried = (toHour: number) => 2 * DAYLIGHT_WEIGHTS.slice(0, toHour + 1).reduce((a, b) => a + b, 0);
    expect(wet[15]).toBeCloseTo(30 + dried(15), 9);
    expect(wet[16]).toBeCloseTo(10 + dried(16), 9);
    expect(wet[23]).toBe(12);
  });

  it('gives one reading per hour and the truth per hour, ending each day on AquaCrop\'s depletion', () => {
    const season = seasons.find((s) => s.meta.crop === 'potato' && s.days.some((d) => d.irrigation > 0))!;
    const trace = traceOfSeason(season);
    expect(trace.readings).toHaveLength(season.days.length * 24);
    expect(trace.readings[0]!.ts).toBe(trace.startTs + HOUR_MS);
    season.days.forEach((day, d) => {
      expect(trace.truthDepletion[d * 24 + 23]).toBeCloseTo(day.dr, 9);
      expect(trace.truthRaw[d * 24 + 23]).toBeCloseTo(season.meta.p * day.taw, 9);
    });
    const et0 = trace.readings.slice(0, 24).reduce((a, r) => a + r.values.et0!, 0);
    expect(et0).toBeCloseTo(season.days[0]!.et0, 2);
    expect(trace.irrigations.reduce((a, r) => a + r.depthMm, 0)).toBeCloseTo(season.days.reduce((a, d) => a + d.irrigation, 0), 6);
    expect(trace.settings.harvestedOn! > season.meta.last_day).toBe(true);
    // By default the field is the preset's: no root depths of its own, the probe over the preset's depth.
    expect(trace.settings.rootDepthM).toBeUndefined();
    expect(trace.probeDepthM).toBe(0.5);
  });

  it('registers the field with AquaCrop\'s root depths, one probe averaging the deepest roots\' zone', () => {
    const season = seasons.find((s) => s.meta.crop === 'maize')!;
    const trace = traceOfSeason(season, { rootDepth: 'aquacrop' });
    expect(trace.settings.rootDepthM).toBe(2.3);
    expect(trace.settings.rootDepthMinM).toBe(season.days[0]!.z_root);
    expect(trace.probeDepthM).toBe(2.3);
    const last = season.days.at(-1)!;
    const dz = season.soil.dz;
    let sum = 0;
    let top = 0;
    for (let c = 0; c < dz.length && top < 2.3; c++) {
      sum += Math.min(dz[c]!, 2.3 - top) * last.theta[c]!;
      top += dz[c]!;
    }
    expect(trace.readings.at(-1)!.values.soil_moisture).toBeCloseTo(sum / 2.3, 4);
    // The truth is AquaCrop's whatever the field is told.
    expect([...trace.truthDepletion]).toEqual([...traceOfSeason(season).truthDepletion]);
  });

  it('with the probe over the roots\' depth of the day, reads AquaCrop\'s own root-zone depletion at each day\'s end', () => {
    const season = seasons.find((s) => s.meta.crop === 'potato' && s.meta.soil === 'loam')!;
    const trace = traceOfSeason(season, { rootDepth: 'aquacrop', probe: 'root-zone' });
    const thetaFc = season.soil.th_fc[0]!;
    season.days.forEach((day, d) => {
      const read = trace.readings[d * 24 + 23]!.values.soil_moisture!;
      expect((thetaFc - read) * 1000 * day.z_root).toBeCloseTo(day.dr, -0.3); // within about 1 mm (readings carry 4 digits)
    });
  });

  it('reads the crop\'s stage lengths from its roots and canopy: emergence, deepest roots, canopy decline, season end', () => {
    // 20 days: roots at 0.3 m for 3 days, deepest (1.0 m) at the end of day 10; canopy peaks on day 11, below 98 % of it on day 16.
    const z = [0.3, 0.3, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    const cc = [0, 0, 0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.85, 0.9, 0.9, 0.895, 0.89, 0.885, 0.8, 0.7, 0.6, 0.5, 0.4];
    const days = z.map((z_root, i) => ({ z_root, canopy_cover: cc[i]! }));
    expect(stageDaysOfSeason(days)).toEqual([3, 7, 5, 5]);
    // Roots that never grow and a canopy that never rises still give four stages of at least a day.
    const flat = stageDaysOfSeason(Array.from({ length: 10 }, () => ({ z_root: 0.3, canopy_cover: 0 })));
    expect(flat.every((d) => d >= 1)).toBe(true);
    expect(flat.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('registered as it grows, the field\'s roots reach their deepest on the day AquaCrop\'s do and its stages span the season', () => {
    for (const crop of ['maize', 'tomato', 'potato']) {
      const season = seasons.find((s) => s.meta.crop === crop)!;
      const trace = traceOfSeason(season, { rootDepth: 'aquacrop', probe: 'root-zone', stages: 'aquacrop' });
      const stageDays = trace.settings.kc!.stageDays!;
      expect(() => validateFieldSettings(trace.settings)).not.toThrow();
      expect(stageDays.reduce((a, b) => a + b, 0)).toBe(season.days.length);
      const { rootDepthM, rootDepthMinM } = trace.settings;
      const full = season.days.findIndex((d) => d.z_root >= rootDepthM!) + 1; // days after sowing at that day's end
      expect(rootDepthOn(stageDays, rootDepthMinM!, rootDepthM!, full)).toBe(rootDepthM);
      expect(rootDepthOn(stageDays, rootDepthMinM!, rootDepthM!, full - 1)).toBeLessThan(rootDepthM!);
      // Emergence: the registered roots start to grow when AquaCrop's do.
      const grows = season.days.findIndex((d) => d.z_root > rootDepthMinM!);
      expect(stageDays[0]).toBe(grows);
    }
    // Without the option the preset's stages stay in charge.
    expect(traceOfSeason(seasons[0]!, { rootDepth: 'aquacrop', probe: 'root-zone' }).settings.kc).toBeUndefined();
  });
});

describe('AquaCrop evaluation', () => {
  let model: IrrigationModel;
  let subset: AquaSeason[];
  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
    // One season per site: potato on loam in the site's first year (deep AquaCrop roots, water needs every site).
    const all = loadAquaSeasons();
    const sites = [...new Set(all.map((s) => s.meta.site))];
    subset = sites.map((site) => all.find((s) => s.meta.site === site && s.meta.crop === 'potato' && s.meta.soil === 'loam')!);
  });
  afterAll(() => model.close());

  it('scores every decider per site with the report\'s structure, the same on a second run', async () => {
    const run = () => evaluateAquaCrop(subset, model, identityOf(model), DEFAULT_EVALUATOR_OPTIONS);
    const first = await run();
    expect(first.sites.map((g) => g.group).sort()).toEqual(subset.map((s) => s.meta.site).sort());
    expect(first.all.seasons).toBe(subset.length);
    for (const g of first.sites) {
      for (const m of METHODS) {
        const s = g.advice[m];
        expect(s.seasons).toBe(1);
        expect(s.daysAdvisedInTime).toBeLessThanOrEqual(s.daysNeedingWater);
        expect(s.falseAlarms).toBeLessThanOrEqual(s.advices);
        expect(s.leads).toHaveLength(s.daysAdvisedInTime);
      }
      // Every decider sees the same truth.
      expect(new Set(METHODS.map((m) => g.advice[m].daysNeedingWater)).size).toBe(1);
      expect(g.forecast.cases).toBeGreaterThan(0);
      // Against the probe: the same cases, but those without a probe reading at either end.
      expect(g.forecast.probe.cases).toBeGreaterThan(0);
      expect(g.forecast.probe.cases).toBeLessThanOrEqual(g.forecast.cases);
      expect(goalsOf(g)[3]!.value).toContain('against the probe\'s own reading 24 h later');
      // The row with the record's rain as forecast is scored on the same hours; every case is in one rain window.
      expect(g.forecastPerfect.cases).toBe(g.forecast.cases);
      for (const f of [g.forecast, g.forecastPerfect]) {
        expect(f.dry.cases + f.rain.cases).toBe(f.cases);
        expect(f.dry.probe.cases + f.rain.probe.cases).toBe(f.probe.cases);
      }
      expect(goalsLine(g)).toContain('with the record\'s rain as a forecast');
      for (const m of REAL_ROOT_LIST) {
        expect(g.forecastRealRoots[m].cases).toBeGreaterThan(0);
        expect(goalsOf(g, m)).toHaveLength(4);
      }
      const table = adviceTable(g).split('\n');
      expect(table).toHaveLength(2 + METHODS.length);
      for (const m of METHODS) expect(table.some((row) => row.startsWith(`| ${METHOD_LABELS[m]} |`))).toBe(true);
      expect(goalsOf(g).map((x) => x.goal)).toHaveLength(4);
    }
    expect(forecastTable(first.sites).split('\n')).toHaveLength(2 + first.sites.length);
    expect(forecastTable(first.sites, 'fieldhook', 'probe')).not.toBe(forecastTable(first.sites));
    expect(forecastByCropTable(first, ['potato']).split('\n')).toHaveLength(2 + 2);
    // Two rows × two truths × every window, dry, rain.
    expect(rainAheadTable(first.all).split('\n')).toHaveLength(2 + 12);
    expect(causesTable(first.crops).split('\n')).toHaveLength(2 + first.crops.length);
    expect(realRootsTable(first, ['potato']).split('\n')).toHaveLength(2 + 1 + REAL_ROOT_LIST.length);
    const second = await run();
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  }, 300_000);
});

describe('the committed AquaCrop evaluation', () => {
  // Its figures are quoted in the README and the docs as the shipped model's: a retrained model
  // must come with the evaluation regenerated (npm run model:evaluate:aquacrop).
  it('was made with the model models/irrigation ships', () => {
    const card = JSON.parse(readFileSync('models/irrigation/model.json', 'utf8')) as { name: string; version: string; file: { sha256: string } };
    const evaluation = JSON.parse(readFileSync('models/aquacrop/evaluation.json', 'utf8')) as { model: { name: string; version: string; sha256: string } };
    expect(evaluation.model).toEqual({ name: card.name, version: card.version, sha256: card.file.sha256 });
  });
});
