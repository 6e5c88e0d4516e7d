/**
 * The AquaCrop evaluation: every recorded season through fieldhook's predictor and both
 * baselines, scored per site (and per crop within a site, for the traces behind the misses).
 */
import type { IrrigationModel } from '../../model/index.js';
import type { EvaluatorOptions } from '../../predictor/evaluator.js';
import type { FieldFactors } from '../../predictor/field-learning.js';
import type { ModelIdentity } from '../../predictor/model-holder.js';
import { traceOfSeason, type SeasonTrace, type TraceOptions } from './hourly.js';
import { naiveTrack, openLoopTrack, runPredictor, type PredictorRun } from './replay.js';
import { addForecastErrors, addScores, emptyForecastError, emptyScore, forecastError, median, scoreSeason, type AdviceScore, type ForecastError, type ForecastSums } from './score.js';
import type { AquaSeason } from './seasons.js';

export const METHODS = ['fieldhook', 'fieldhookFixed', 'fieldhookForecast', 'fieldhookRootDepth', 'fieldhookRootZone', 'fieldhookGrowing', 'naive', 'openLoop'] as const;
export type Method = (typeof METHODS)[number];
/**
 * The rows whose field is registered with AquaCrop's root depths instead of the crop preset's,
 * and how each one's probe reads the soil: what the evaluation measures the probe-and-budget
 * bound with; the last also carries the season's own stage lengths, so the registered roots
 * grow on AquaCrop's calendar. The truth stays AquaCrop's own root zone.
 */
export const REAL_ROOT_METHODS = {
  fieldhookRootDepth: { rootDepth: 'aquacrop', probe: 'managed-depth', stages: 'preset' },
  fieldhookRootZone: { rootDepth: 'aquacrop', probe: 'root-zone', stages: 'preset' },
  fieldhookGrowing: { rootDepth: 'aquacrop', probe: 'root-zone', stages: 'aquacrop' },
} as const satisfies Record<string, TraceOptions>;
export type RealRootMethod = keyof typeof REAL_ROOT_METHODS;
export const REAL_ROOT_LIST = Object.keys(REAL_ROOT_METHODS) as RealRootMethod[];
export const METHOD_LABELS: Record<Method, string> = {
  fieldhook: 'fieldhook (model + decision, irrigation records, learning the field)',
  fieldhookFixed: 'fieldhook without learning the field (the preset\'s budget)',
  fieldhookForecast: 'fieldhook with the record\'s rain as a perfect forecast',
  fieldhookRootDepth: 'fieldhook, field registered with its real root depth, one probe averaging that depth',
  fieldhookRootZone: 'fieldhook, field registered with its real root depth, the probe averaging the depth the roots reach that day',
  fieldhookGrowing: 'fieldhook, field registered as it grows: real root depths and the crop\'s own stage lengths, the probe over the roots of the day',
  naive: 'naive rule on the soil sensor alone (0.8 RAW on, 0.5 off)',
  openLoop: 'FAO-56 open loop (climate file\'s ET0, no sensor)',
};

export interface GroupResult {
  /** Site id, or `site/crop`. */
  group: string;
  seasons: number;
  advice: Record<Method, AdviceScore>;
  /** fieldhook's 24 h forecast (the default row's), and the same for the rows on real root depths. */
  forecast: ForecastError;
  /** The same with the record's rain and ET0 as the field's forecast (empty when that row is not run). */
  forecastPerfect: ForecastError;
  forecastRealRoots: Record<RealRootMethod, ForecastError>;
}

/** One season's fieldhook score, and the budgets behind it at the season's peak root depth. */
export interface SeasonResult {
  id: string;
  fieldhook: AdviceScore;
  /** Median RAW over the season's second half, fieldhook's (its managed root zone, as learnt) and AquaCrop's, mm; the deepest roots, m. */
  rawFieldhookMm: number;
  rawAquaCropMm: number;
  managedDepthM: number;
  aquaCropRootM: number;
  /** What fieldhook learnt of the field by the season's end (null: nothing). */
  learnt: FieldFactors | null;
  /**
   * fieldhook's depletion as a fraction of its RAW over AquaCrop's, median over the hours when
   * AquaCrop's stood at 0.3 RAW or more: how much faster the probe's layer dries than the root zone.
   */
  drierByMedian: number;
  /** The same without learning the field: the probe's layer against the preset's budget. */
  drierByMedianFixed: number;
  /** The same ratio for the rows on real root depths. */
  drierByMedianRealRoots: Record<RealRootMethod, number>;
}

export interface AquaCropEvaluation {
  sites: GroupResult[];
  crops: GroupResult[];
  all: GroupResult;
  seasons: SeasonResult[];
}

export interface AquaCropEvaluationOptions {
  /** An advice is false when RAW is not reached within horizon + slack, h. Default 24. */
  falseAlarmSlackH: number;
  /** Also run fieldhook with the climate record's rain as a perfect forecast. Default true. */
  perfectForecast: boolean;
  /** Also run the rows on real root depths (REAL_ROOT_METHODS). Default true. */
  realRootDepth: boolean;
}

const emptyGroup = (group: string): GroupResult => ({
  group,
  seasons: 0,
  advice: Object.fromEntries(METHODS.map((m) => [m, emptyScore()])) as Record<Method, AdviceScore>,
  forecast: emptyForecastError(),
  forecastPerfect: emptyForecastError(),
  forecastRealRoots: Object.fromEntries(REAL_ROOT_LIST.map((m) => [m, emptyForecastError()])) as Record<RealRootMethod, ForecastError>,
});

export async function evaluateAquaCrop(
  seasons: readonly AquaSeason[],
  model: IrrigationModel,
  identity: ModelIdentity,
  evaluator: EvaluatorOptions,
  options: Partial<AquaCropEvaluationOptions> = {},
): Promise<AquaCropEvaluation> {
  const o: AquaCropEvaluationOptions = { falseAlarmSlackH: 24, perfectForecast: true, realRootDepth: true, ...options };
  const traces = seasons.map((s) => traceOfSeason(s));
  const plain = await runPredictor(traces, model, identity, evaluator);
  const fixed = await runPredictor(traces, model, identity, evaluator, { learnField: false });
  const withForecast = o.perfectForecast ? await runPredictor(traces, model, identity, evaluator, { perfectForecast: true }) : null;
  // The same seasons, the field told AquaCrop's root depths and its probe reading as each row says.
  const realRoots = new Map<RealRootMethod, { traces: SeasonTrace[]; run: PredictorRun }>();
  if (o.realRootDepth) {
    for (const m of REAL_ROOT_LIST) {
      const deepTraces = seasons.map((s) => traceOfSeason(s, REAL_ROOT_METHODS[m]));
      realRoots.set(m, { traces: deepTraces, run: await runPredictor(deepTraces, model, identity, evaluator) });
    }
  }
  const scoring = { horizonH: evaluator.horizonH, falseAlarmSlackH: o.falseAlarmSlackH };
  const groups = new Map<string, GroupResult>();
  const all = emptyGroup('all');
  const perSeason: SeasonResult[] = [];
  traces.forEach((trace, s) => {
    const season = seasons[s]!;
    const tracks: Record<Method, ReturnType<typeof naiveTrack> | null> = {
      fieldhook: plain.tracks[s]!,
      fieldhookFixed: fixed.tracks[s]!,
      fieldhookForecast: withForecast?.tracks[s] ?? null,
      fieldhookRootDepth: realRoots.get('fieldhookRootDepth')?.run.tracks[s] ?? null,
      fieldhookRootZone: realRoots.get('fieldhookRootZone')?.run.tracks[s] ?? null,
      fieldhookGrowing: realRoots.get('fieldhookGrowing')?.run.tracks[s] ?? null,
      naive: naiveTrack(plain.sensor[s]!),
      openLoop: openLoopTrack(trace),
    };
    const forecast = forecastError(trace, plain.forecasts[s]!, plain.sensor[s]!);
    const forecastPerfect = withForecast ? forecastError(trace, withForecast.forecasts[s]!, withForecast.sensor[s]!) : emptyForecastError();
    const forecastDeep = Object.fromEntries(REAL_ROOT_LIST.map((m) => {
      const r = realRoots.get(m);
      return [m, r ? forecastError(r.traces[s]!, r.run.forecasts[s]!, r.run.sensor[s]!) : emptyForecastError()];
    })) as Record<RealRootMethod, ForecastError>;
    // The second half of the season: roots grown, learning settled, the last days' end of season aside.
    const late = (xs: Float64Array) => median([...xs.slice(Math.floor(xs.length / 2))].filter((x) => Number.isFinite(x)));
    perSeason.push({
      id: season.meta.id,
      fieldhook: scoreSeason(trace, plain.tracks[s]!, scoring),
      rawFieldhookMm: late(plain.tracks[s]!.raw),
      rawAquaCropMm: late(trace.truthRaw),
      managedDepthM: trace.probeDepthM,
      aquaCropRootM: Math.max(...trace.zRoot),
      learnt: plain.learnt[s] ?? null,
      drierByMedian: drierBy(trace, plain.tracks[s]!),
      drierByMedianFixed: drierBy(trace, fixed.tracks[s]!),
      drierByMedianRealRoots: Object.fromEntries(REAL_ROOT_LIST.map((m) => {
        const r = realRoots.get(m);
        return [m, r ? drierBy(trace, r.run.tracks[s]!) : Number.NaN];
      })) as Record<RealRootMethod, number>,
    });
    for (const key of [season.meta.site, `${season.meta.site}/${season.meta.crop}`]) {
      const g = groups.get(key) ?? emptyGroup(key);
      groups.set(key, g);
      for (const target of key === season.meta.site ? [g, all] : [g]) {
        target.seasons++;
        for (const m of METHODS) {
          const track = tracks[m];
          if (track) target.advice[m] = addScores(target.advice[m], scoreSeason(trace, track, scoring));
        }
        target.forecast = addForecastErrors(target.forecast, forecast);
        target.forecastPerfect = addForecastErrors(target.forecastPerfect, forecastPerfect);
        for (const m of REAL_ROOT_LIST) target.forecastRealRoots[m] = addForecastErrors(target.forecastRealRoots[m], forecastDeep[m]);
      }
    }
  });
  const list = [...groups.values()];
  return { sites: list.filter((g) => !g.group.includes('/')), crops: list.filter((g) => g.group.includes('/')), all, seasons: perSeason };
}

/** See {@link SeasonResult.drierByMedian}. */
function drierBy(trace: SeasonTrace, track: ReturnType<typeof naiveTrack>): number {
  const ratios: number[] = [];
  for (let i = 0; i < trace.hours; i++) {
    const truth = trace.truthDepletion[i]! / trace.truthRaw[i]!;
    const mine = track.depletionNow[i]! / track.raw[i]!;
    if (truth >= 0.3 && Number.isFinite(mine)) ratios.push(mine / truth);
  }
  return median(ratios);
}

/** Mean absolute errors of a group's 24 h forecasts against one truth (`f.probe` for the probe's), fractions of RAW. */
export function meanForecastError(f: ForecastSums): Omit<ForecastSums, 'cases'> {
  const n = Math.max(1, f.cases);
  return {
    model: f.model / n, persistence: f.persistence / n, faoYesterday: f.faoYesterday / n,
    changeModel: f.changeModel / n, changePersistence: f.changePersistence / n, changeFaoYesterday: f.changeFaoYesterday / n,
  };
}
