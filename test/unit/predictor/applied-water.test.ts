import { describe, expect, it } from 'vitest';
import { createAppliedWaterLedger, creditPrediction, lessShown, unseenFrom, unseenWater } from '../../../services/predictor/applied-water.js';
import type { IrrigationPrediction } from '../../../services/model/index.js';

const H = 3_600_000;
const prediction: IrrigationPrediction = { depletionNowMm: 30, depletion24hMm: 36, depletion48hMm: 42, tawMm: 80, rawMm: 32, irrigate: true, irrigationDepthMm: 36, hoursToRaw: 8 };

describe('applied water in the balance', () => {
  it('credits an irrigation until the probe has reported two hours after it ended', () => {
    const records = [{ id: 'a', startTs: 10 * H, endTs: 11 * H, depthMm: 20 }];
    expect(unseenWater(records, 11 * H, 11 * H)).toEqual({ mm: 20, ids: ['a'] });
    // What went in two hours before the probe's newest reading, the probe shows: half of it at 12:30.
    expect(unseenWater(records, 12.5 * H, 12.5 * H)).toEqual({ mm: 10, ids: ['a'] });
    expect(unseenWater(records, 13 * H, 13 * H)).toEqual({ mm: 0, ids: [] });
    // A probe silent since before the water: all of it, until it reports.
    expect(unseenWater(records, 9 * H, 12.5 * H)).toEqual({ mm: 20, ids: ['a'] });
    // Running: in proportion; not yet started (replay): nothing.
    expect(unseenWater(records, 10.5 * H, 10.5 * H)).toEqual({ mm: 10, ids: ['a'] });
    expect(unseenWater(records, 9 * H, 9.5 * H)).toEqual({ mm: 0, ids: [] });
  });

  it('credits a record spread over days only for its last hours, which the probe reporting all along cannot show yet', () => {
    // 60 mm over six days, ended an hour ago; the probe reported every hour.
    const now = 200 * H;
    const spread = [{ id: 'b', startTs: now - 145 * H, endTs: now - H, depthMm: 60 }];
    // Only its last hour went in less than two hours before the newest reading: 60 / 144 mm.
    expect(unseenWater(spread, now, now)).toEqual({ mm: 0.42, ids: ['b'] });
    expect(unseenFrom(spread[0]!, now)).toBe(now - 2 * H);
  });

  it('credits only what the probe does not show yet', () => {
    const credit = { mm: 20, ids: ['a'] };
    expect(lessShown(credit, 0)).toBe(credit);
    expect(lessShown(credit, 14.5)).toEqual({ mm: 5.5, ids: ['a'] });
    // The probe shows it all (and the rain that fell with it): nothing left to credit.
    expect(lessShown(credit, 26)).toEqual({ mm: 0, ids: ['a'] });
    // A probe drying while the water runs, or moving within its noise, shows nothing: the whole record.
    expect(lessShown(credit, -2)).toBe(credit);
    expect(lessShown(credit, 2.5)).toBe(credit);
  });

  it('lowers depletion now and ahead by the water that refills, never past field capacity', () => {
    const wet = creditPrediction(prediction, 20);
    expect(wet).toMatchObject({ depletionNowMm: 10, depletion24hMm: 16, depletion48hMm: 22, irrigate: false, irrigationDepthMm: 0 });
    expect(wet.hoursToRaw).toBeGreaterThan(48);
    // 50 mm on 30 mm of depletion: 20 mm drain away below the roots.
    expect(creditPrediction(prediction, 50)).toMatchObject({ depletionNowMm: 0, depletion24hMm: 6, depletion48hMm: 12 });
    expect(creditPrediction(prediction, 0)).toBe(prediction);
  });

  it('keeps each record once per field, and the last days only', () => {
    const ledger = createAppliedWaterLedger({ keepMs: 48 * H });
    ledger.add('f/a', [{ id: 'x', startTs: 0, endTs: H, depthMm: 5 }]);
    ledger.add('f/a', [{ id: 'x', startTs: 0, endTs: H, depthMm: 5 }, { id: 'y', startTs: 100 * H, endTs: 101 * H, depthMm: 7 }]);
    expect(ledger.get('f/a').map((r) => r.id)).toEqual(['y']);
    expect(ledger.get('f/b')).toEqual([]);
  });
});
