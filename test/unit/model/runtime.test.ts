import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard } from '../../../services/model/card.js';
import { faoYesterdayForecast, persistenceForecast, scoreForecasts, scoreHoursToRaw } from '../../../services/training/evaluation.js';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../../services/model/features.js';
import { createIrrigationModel, hoursToThreshold, type IrrigationModel } from '../../../services/model/runtime.js';

const dir = 'models/irrigation';
const modelPath = join(dir, 'model.onnx');
const cardPath = join(dir, 'model.json');
interface Vectors {
  features: string[];
  rows: { features: number[]; sklearn: number[]; onnxruntime_python: number[] }[];
}
const vectors = JSON.parse(readFileSync(join(dir, 'test-vectors.json'), 'utf8')) as Vectors;

describe('irrigation model runtime (onnxruntime-node)', () => {
  let model: IrrigationModel;
  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath, cardPath });
  });
  afterAll(async () => {
    await model.close();
  });

  it('is under 1 MB and its card matches the feature module', () => {
    expect(readFileSync(modelPath).length).toBeLessThan(1_000_000);
    expect(model.card.features.map((f) => f.name)).toEqual(FEATURE_NAMES);
    expect(vectors.features).toEqual(FEATURE_NAMES);
    expect(model.card.outputs.map((o) => o.name)).toEqual(['depletion_24h_mm', 'depletion_48h_mm']);
  });

  it('reproduces the Python predictions of test-vectors.json to 1e-4 in one batch', async () => {
    expect(vectors.rows.length).toBeGreaterThanOrEqual(100);
    const out = await model.run(vectors.rows.map((r) => r.features));
    vectors.rows.forEach((r, i) => {
      for (let k = 0; k < 2; k++) {
        expect(Math.abs(out[2 * i + k]! - r.sklearn[k]!)).toBeLessThan(1e-4);
        expect(Math.abs(out[2 * i + k]! - r.onnxruntime_python[k]!)).toBeLessThan(1e-4);
      }
    });
  });

  it('predicts many fields at once, with the FAO-56 decision and hours to RAW', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => vectors.rows[i % vectors.rows.length]!.features);
    const predictions = await model.predict(rows);
    expect(predictions).toHaveLength(1000);
    for (const p of predictions) {
      expect(p.depletion24hMm).toBeGreaterThanOrEqual(0);
      expect(p.depletion24hMm).toBeLessThanOrEqual(p.tawMm);
      expect(p.irrigate).toBe(p.depletion24hMm >= p.rawMm);
      expect(p.irrigationDepthMm).toBe(p.irrigate ? p.depletion24hMm : 0);
      if (p.irrigate) expect(p.hoursToRaw).toBeLessThanOrEqual(24);
    }
  });

  it('rejects rows of the wrong length or with non-finite values', async () => {
    await expect(model.run([[1, 2, 3]])).rejects.toMatchObject({ code: 'FH_ERR_MODEL_INVALID_INPUT' });
    const bad = [...vectors.rows[0]!.features];
    bad[3] = Number.NaN;
    await expect(model.run([bad])).rejects.toMatchObject({ code: 'FH_ERR_MODEL_INVALID_INPUT' });
  });
});

describe('model card checks', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'fh-model-'));
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;

  it('refuses a model file whose sha256 differs from the card', async () => {
    const p = join(tmp, 'card-sha.json');
    writeFileSync(p, JSON.stringify({ ...card, file: { ...card.file, sha256: '0'.repeat(64) } }));
    await expect(createIrrigationModel({ modelPath, cardPath: p })).rejects.toMatchObject({ code: 'FH_ERR_MODEL_CHECKSUM' });
  });

  it('refuses a card whose features differ from the feature module', async () => {
    const p = join(tmp, 'card-features.json');
    writeFileSync(p, JSON.stringify({ ...card, features: [...card.features].reverse() }));
    await expect(createIrrigationModel({ modelPath, cardPath: p })).rejects.toMatchObject({ code: 'FH_ERR_MODEL_CARD_MISMATCH' });
  });

  it('refuses a card naming an output the session does not have', async () => {
    const p = join(tmp, 'card-output.json');
    copyFileSync(cardPath, p);
    writeFileSync(p, JSON.stringify({ ...card, onnx: { ...card.onnx, output: 'probability' } }));
    await expect(createIrrigationModel({ modelPath, cardPath: p })).rejects.toMatchObject({ code: 'FH_ERR_MODEL_CARD_MISMATCH' });
  });
});

describe('hours to RAW and baselines', () => {
  it('interpolates the depletion path to the threshold', () => {
    expect(hoursToThreshold(50, 60, 70, 40)).toBe(0);
    expect(hoursToThreshold(20, 40, 60, 30)).toBeCloseTo(12, 9);
    expect(hoursToThreshold(20, 28, 36, 32)).toBeCloseTo(24 + 12, 9);
    expect(hoursToThreshold(20, 24, 28, 32)).toBeCloseTo(48 + 24, 9);
    expect(hoursToThreshold(20, 24, 24, 32)).toBeNull();
    expect(hoursToThreshold(0, 0.1, 0.2, 60)).toBeNull(); // beyond 240 h
  });

  it('follows the day\'s demand when the local hour is known: RAW is crossed by day, not at night', () => {
    // Forecast at 18:00; half of the next day's rise is needed. Linear says 06:00, the demand
    // curve says around noon.
    const hours = hoursToThreshold(20, 40, 60, 30, 18)!;
    expect(hours).toBeGreaterThan(15);
    expect(hours).toBeLessThan(21);
    const clock = (18 + hours) % 24;
    expect(clock).toBeGreaterThan(9);
    expect(clock).toBeLessThan(15);
    // The whole rise is reached by the end of the window, at any start hour.
    for (const start of [0, 5.5, 12, 23]) expect(hoursToThreshold(20, 40, 60, 40, start)).toBeCloseTo(24, 6);
  });

  it('persistence repeats today; the FAO-56 baseline adds yesterday\'s ETc and rain', () => {
    const row = new Float64Array(FEATURE_COUNT);
    const set = (name: (typeof FEATURE_NAMES)[number], v: number) => (row[FEATURE_NAMES.indexOf(name)] = v);
    set('depletion_smoothed_mm', 30);
    set('taw_mm', 100);
    set('raw_mm', 50);
    set('et0_24h_mm', 6);
    set('kc_now', 1);
    set('kc_next_48h', 1);
    set('rain_24h_mm', 2);
    expect(persistenceForecast(row)).toEqual({ d24: 30, d48: 30 });
    expect(faoYesterdayForecast(row)).toEqual({ d24: 34, d48: 38 });
    const score = scoreForecasts([
      { forecast: { d24: 34, d48: 38 }, truth: { d24: 36, d48: 41 }, raw: 35 },
      { forecast: { d24: 60, d48: 70 }, truth: { d24: 55, d48: 60 }, raw: 50 },
    ]);
    expect(score).toMatchObject({ cases: 2, mae24hMm: 3.5, mae48hMm: 6.5, decisionAgreement: 0.5, missedIrrigations: 1, falseAlarms: 0 });
    // Only cases that truly reach RAW within (0, 48] h count; a forecast that never does counts as 96 h.
    expect(
      scoreHoursToRaw([
        { predicted: 10, truth: 12 },
        { predicted: null, truth: 40 },
        { predicted: 5, truth: 0 },
        { predicted: 20, truth: null },
      ]),
    ).toEqual({ cases: 2, maeHours: (2 + 56) / 2, within6Hours: 0.5 });
  });
});
