import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { DEFAULT_DECISION_OPTIONS } from '../../../services/predictor/decision.js';
import { identityOf } from '../../../services/predictor/model-holder.js';
import { formatQualityReport, runQualityReport } from '../../../services/training/quality-report.js';

describe('decision quality over simulated seasons', () => {
  let model: IrrigationModel;
  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
  });
  afterAll(() => model.close());

  it('advises before RAW on at least 95 % of the days that need water, with few false alarms', async () => {
    const report = await runQualityReport(model, identityOf(model), { ...DEFAULT_DECISION_OPTIONS, staleAfterMs: 3 * 3_600_000 }, { fields: 8 });
    expect(report.daysNeedingWater).toBeGreaterThan(50);
    expect(report.hitRate).toBeGreaterThanOrEqual(0.95);
    expect(report.falseAlarmRate).toBeLessThan(0.15);
    expect(report.leadTimeMedianH).toBeGreaterThan(2);
    expect(formatQualityReport(report, identityOf(model))).toMatch(/advised before RAW was exceeded \| \d+ \(\*\*\d+\.\d %\*\*\)/);
  }, 60_000);
});
