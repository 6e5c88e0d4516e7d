/**
 * A recorded irrigation changes advice, against the real InfluxDB and Mosquitto: an open
 * `irrigation.recommended` is cleared and the depletion drops at once (before the soil probe
 * shows the water), the record lands in InfluxDB's `irrigation` measurement, and a replay over
 * the same hours sees it too. Runs against InfluxDB 1.8, and 2.7 in the integration-influx2 project.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublishInput } from '../../../services/dispatcher/index.js';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import { createAppliedWaterLoader } from '../../../services/predictor/applied-water-source.js';
import type { Predictor } from '../../../services/predictor/build-predictor.js';
import { DEFAULT_DECISION_OPTIONS } from '../../../services/predictor/decision.js';
import type { EvaluatedField } from '../../../services/predictor/evaluator.js';
import { fieldKey, profileOf } from '../../../services/predictor/field-profiles.js';
import { createHistoryLoader } from '../../../services/predictor/history-loader.js';
import { createModelHolder } from '../../../services/predictor/model-holder.js';
import { replay } from '../../../services/predictor/replay.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { queryInfluxQl } from '../../../services/shared/influxql.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { ADVICE_EVALUATOR, advisedPredictor, advisedSeason } from '../../helpers/advice-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const HOUR = 3_600_000;
const FARM = 'irr-farm';
const FIELD = 'north';

const influx = testInflux();

describe(`a recorded irrigation moves advice (InfluxDB ${influx.kind}, Mosquitto)`, () => {
  const mosquittoUrl = inject('mosquittoUrl');
  const database = `irrigation_advice_${process.pid}`;
  const target = influx.target(database);
  const dir = mkdtempSync(join(tmpdir(), 'fh-irrigation-advice-'));
  const holder = createModelHolder({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json', pollMs: 60_000 }, silentLogger());
  const evaluator = ADVICE_EVALUATOR;
  let field: EvaluatedField;
  let devices: DeviceRepository;
  let irrigations: Irrigations;
  let predictor: Predictor;
  /** The first hour the model advises water: the readings end there. */
  let adviceAt = 0;
  let now = 0;
  /** The net depth recorded: the depletion at the advice, rounded up. */
  let depth = 0;
  const published: PublishInput[] = [];

  beforeAll(async () => {
    await influx.createDatabase(database);
    await holder.start();
    const season = await advisedSeason('irrigation-advice', holder);
    adviceAt = season.adviceAt;
    const settings = season.settings(FARM, FIELD);
    // The profile exactly as the live predictor derives it from the settings.
    field = { key: fieldKey(FARM, FIELD), settings, profile: profileOf(settings) };
    await season.write(target, [{ farm: FARM, field: FIELD }]);
    now = adviceAt;
    const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
    const bus = () => ({ url: mosquittoUrl, protocolVersion: 5 as const, sharedSubscriptions: true });
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    irrigations = buildIrrigations({ config: { DATA_DIR: dir }, logger: silentLogger(), devices, influx: target, bus, clock });
    predictor = await advisedPredictor({ settings: [settings], target, bus, clock, holder, published, dataDir: dir, clientId: `irr-advice-${process.pid}` });
    await irrigations.start();
    await predictor.start();
  }, 120_000);

  afterAll(async () => {
    await predictor?.stop();
    await irrigations?.stop();
    devices?.close();
    await holder.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clears the open advice and drops the depletion when the advised depth is recorded', async () => {
    const advice = published.find((e) => e.type === 'irrigation.recommended');
    expect(advice, 'the start round advises water').toBeDefined();
    const before = (await predictor.assess(FARM, FIELD))!;
    expect(before.prediction!.depletionNowMm).toBeGreaterThan(before.prediction!.rawMm * DEFAULT_DECISION_OPTIONS.clearFraction);

    now = adviceAt + 20 * 60_000;
    depth = Math.ceil(before.prediction!.depletionNowMm);
    const { record } = await irrigations.service.record(
      { farm: FARM, field: FIELD, depth_mm: depth, start: adviceAt - 40 * 60_000, end: adviceAt + 10 * 60_000 },
      { source: 'api', who: 'admin' },
    );
    // Over the bus to the predictor, which evaluates the field again without waiting for the probe.
    const cleared = await eventually(() => published.find((e) => e.type === 'irrigation.cleared'), { what: 'irrigation.cleared', timeoutMs: 20_000 });
    expect(cleared).toMatchObject({ farm: FARM, field: FIELD, collapse_key: `irrigation:${FARM}:${FIELD}` });
    expect(cleared.data).toMatchObject({ depletion_mm: 0, reason: expect.stringMatching(/refilled/) });
    expect((cleared.data.provenance as { applied_water: unknown }).applied_water).toEqual({ mm: depth, ids: [record.id] });
    const after = (await predictor.assess(FARM, FIELD))!;
    expect(after.prediction!.depletionNowMm).toBeLessThan(before.prediction!.depletionNowMm - depth / 2);
    expect(after.decision.state.advice).toBeNull();

    // InfluxDB has the record as an `irrigation` point and the depletion as the predictor saw it.
    const points = await eventually(async () => {
      const [result] = await queryInfluxQl(target, `SELECT "depth_mm", "duration_s", "id" FROM "irrigation" WHERE "farm" = '${FARM}' GROUP BY "field", "source", "who"`);
      return result?.series?.length ? result.series : undefined;
    }, { what: 'the irrigation point' });
    expect(points).toEqual([
      { name: 'irrigation', tags: { field: FIELD, source: 'api', who: 'admin' }, columns: ['time', 'depth_mm', 'duration_s', 'id'], values: [[adviceAt + 10 * 60_000, depth, 3000, record.id]] },
    ]);
    const depletion = await eventually(async () => {
      const [result] = await queryInfluxQl(target, `SELECT "depletion_mm" FROM "recommendation" WHERE "field" = '${FIELD}' ORDER BY time`);
      const values = result?.series?.[0]?.values;
      return values && values.length >= 2 ? values : undefined;
    }, { what: 'the recommendation points' });
    expect(depletion[0]).toEqual([adviceAt, expect.closeTo(before.prediction!.depletionNowMm, 3)]);
    // Refilled: nothing left but the evapotranspiration of the hour under way (20 minutes into it).
    expect(depletion.at(-1)![0]).toBe(now);
    expect(depletion.at(-1)![1]).toBeCloseTo(0, 1);
  });

  it('replays with the recorded irrigation from InfluxDB as the pipeline knew it: not before it was recorded, then as the live advice was cleared', async () => {
    const deps = { history: createHistoryLoader(target), model: holder, evaluator };
    const range = { fromTs: adviceAt - 2 * HOUR, toTs: adviceAt + HOUR };
    const depletionAt = (into: Map<number, number>) => (evaluations: readonly { at: number; prediction: { depletionNowMm: number } | null }[]) => {
      for (const e of evaluations) if (e.prediction) into.set(e.at, e.prediction.depletionNowMm);
    };
    const dry = new Map<number, number>();
    const wet = new Map<number, number>();
    const without = await replay([field], range, { ...deps, onRound: depletionAt(dry) });
    const withWater = await replay([field], range, { ...deps, appliedHistory: createAppliedWaterLoader(target), onRound: depletionAt(wet) });
    expect(without.events['irrigation.recommended']).toBe(1);
    expect(without.events['irrigation.cleared']).toBeUndefined();
    // At the advice hour the water was running but recorded only 20 minutes later: the live
    // pipeline advised then, and so does the replay; an hour later the record counts in full, and
    // the advice is cleared as it was live.
    expect(withWater.events).toMatchObject({ 'irrigation.recommended': 1, 'irrigation.cleared': 1 });
    expect(wet.get(adviceAt - HOUR)).toBe(dry.get(adviceAt - HOUR));
    expect(wet.get(adviceAt)).toBe(dry.get(adviceAt));
    expect(wet.get(adviceAt + HOUR)).toBeCloseTo(Math.max(0, dry.get(adviceAt + HOUR)! - depth), 6);
  });
});
