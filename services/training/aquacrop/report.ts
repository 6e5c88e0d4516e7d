/** The AquaCrop evaluation as Markdown: per-site tables, the forecast's error, goals, and the traces behind the misses. */
import { METHOD_LABELS, METHODS, REAL_ROOT_LIST, meanForecastError, type AquaCropEvaluation, type GroupResult, type Method, type RealRootMethod, type SeasonResult } from './evaluate.js';
import { FALSE_ALARM_CAUSES, MISS_CAUSES, RAIN_AHEAD_MM, addForecastErrors, addScores, emptyForecastError, emptyScore, median, type AdviceScore, type ForecastError, type ForecastSums } from './score.js';

/** The issue's goals, as measured here. */
export const GOALS = {
  hitRate: 0.95,
  falseAlarmRate: 0.1,
  leadH: [12, 36] as const,
  /** The 24 h forecast's error at most this fraction of the better baseline's. */
  forecastRatio: 0.75,
};

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)} %` : '–');
const hours = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} h` : '–');

export function hitRate(s: AdviceScore): number {
  return s.daysNeedingWater ? s.daysAdvisedInTime / s.daysNeedingWater : Number.NaN;
}
export function falseAlarmRate(s: AdviceScore): number {
  return s.advices ? s.falseAlarms / s.advices : Number.NaN;
}

/** One table row per decider: the columns of the simulator's decision quality report. */
export function adviceTable(g: GroupResult, methods: readonly Method[] = METHODS): string {
  return [
    '| | days needing water | advised in time | false alarms (of advice events) | median lead | hours with advice in force |',
    '|---|---:|---:|---:|---:|---:|',
    ...methods.map((m) => {
      const s = g.advice[m];
      return `| ${METHOD_LABELS[m]} | ${s.daysNeedingWater} | ${pct(hitRate(s))} (${s.daysAdvisedInTime}) | ${pct(falseAlarmRate(s))} (${s.falseAlarms} of ${s.advices}) | ${hours(median(s.leads))} | ${pct(s.hoursInForce / Math.max(1, s.hours))} |`;
    }),
  ].join('\n');
}

/** The rows whose 24 h forecast is scored. */
export type ForecastRow = 'fieldhook' | 'fieldhookForecast' | RealRootMethod;

/** The 24 h forecast's errors of a row: fieldhook's default, with the record's rain as forecast, or a row on real root depths. */
export function forecastOf(g: GroupResult, method: ForecastRow = 'fieldhook'): ForecastError {
  if (method === 'fieldhook') return g.forecast;
  return method === 'fieldhookForecast' ? g.forecastPerfect : g.forecastRealRoots[method];
}

/** The 24 h change's error over the better baseline's: the goal's measure (≤ GOALS.forecastRatio). */
function changeRatio(f: ForecastSums): number {
  const e = meanForecastError(f);
  return e.changeModel / Math.min(e.changePersistence, e.changeFaoYesterday);
}

/** An error in fractions of RAW, as the tables print it. */
const f2 = (x: number) => x.toFixed(3);
/** How much lower the model's error is than a baseline's, as the tables print it. */
const better = (model: number, baseline: number) => `${((1 - model / baseline) * 100).toFixed(0)} %`;

const FORECAST_COLUMNS = 'cases | fieldhook | persistence | FAO-56, yesterday\'s weather | fieldhook better than persistence / FAO-56 | 24 h change: fieldhook | persistence | FAO-56 | better than persistence / FAO-56 |';

/** One row's cells after its labels: mean errors against one truth, and fieldhook's gain on each baseline. */
function forecastCells(f: ForecastSums): string {
  const e = meanForecastError(f);
  return `${f.cases} | ${f2(e.model)} | ${f2(e.persistence)} | ${f2(e.faoYesterday)} | ${better(e.model, e.persistence)} / ${better(e.model, e.faoYesterday)} | ${f2(e.changeModel)} | ${f2(e.changePersistence)} | ${f2(e.changeFaoYesterday)} | ${better(e.changeModel, e.changePersistence)} / ${better(e.changeModel, e.changeFaoYesterday)} |`;
}

/**
 * The 24 h forecast's mean errors per group against `truth`: AquaCrop's root zone (each in its own
 * budget), or the probe's own reading 24 h later in the forecast's budget.
 */
export function forecastTable(groups: readonly GroupResult[], method: ForecastRow = 'fieldhook', truth: 'aquacrop' | 'probe' = 'aquacrop'): string {
  return [
    `| group | ${FORECAST_COLUMNS}`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...groups.map((g) => `| ${g.group} | ${forecastCells(truth === 'probe' ? forecastOf(g, method).probe : forecastOf(g, method))}`),
  ].join('\n');
}

/** Per crop over every site, fieldhook's default row against both truths, one under the other. */
export function forecastByCropTable(r: AquaCropEvaluation, crops: readonly string[]): string {
  return [
    `| crop | truth | ${FORECAST_COLUMNS}`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...crops.flatMap((crop) => {
      const f = cropTotals(r, crop).forecast.fieldhook;
      return [`| ${crop} | AquaCrop's root zone | ${forecastCells(f)}`, `| ${crop} | the probe 24 h later | ${forecastCells(f.probe)}`];
    }),
  ].join('\n');
}

/** Goal by goal for fieldhook (without forecast; or a row on real root depths) at one site. */
export function goalsOf(g: GroupResult, method: 'fieldhook' | RealRootMethod = 'fieldhook'): { goal: string; met: boolean; value: string }[] {
  const s = g.advice[method];
  const lead = median(s.leads);
  const ratio = changeRatio(forecastOf(g, method));
  // Beside the goal's measure, not in it: the same forecast against what it forecasts.
  const probe = forecastOf(g, method).probe;
  const againstProbe = probe.cases > 0 ? `; against the probe's own reading 24 h later: ${relative(changeRatio(probe), 1)} the better baseline` : '';
  return [
    { goal: `advised in time ≥ ${pct(GOALS.hitRate)}`, met: hitRate(s) >= GOALS.hitRate, value: pct(hitRate(s)) },
    { goal: `false alarms ≤ ${pct(GOALS.falseAlarmRate)}`, met: falseAlarmRate(s) <= GOALS.falseAlarmRate, value: pct(falseAlarmRate(s)) },
    { goal: `median lead ${GOALS.leadH[0]}–${GOALS.leadH[1]} h`, met: lead >= GOALS.leadH[0] && lead <= GOALS.leadH[1], value: hours(lead) },
    { goal: '24 h forecast ≥ 25 % better than persistence and FAO-56 (change of depletion)', met: ratio <= GOALS.forecastRatio, value: `${((1 - ratio) * 100).toFixed(0)} % better than the better baseline${againstProbe}` },
  ];
}

/** fieldhook's false alarms and misses by cause, per site and crop: the traces behind the figures. */
export function causesTable(groups: readonly GroupResult[], method: Method = 'fieldhook'): string {
  return [
    `| site/crop | advice events | false alarms | ${FALSE_ALARM_CAUSES.join(' | ')} | days needing water | missed | ${MISS_CAUSES.map((c) => `missed: ${c}`).join(' | ')} | median lead |`,
    `|---|---:|---:|${FALSE_ALARM_CAUSES.map(() => '---:').join('|')}|---:|---:|${MISS_CAUSES.map(() => '---:').join('|')}|---:|`,
    ...groups.map((g) => {
      const s = g.advice[method];
      return `| ${g.group} | ${s.advices} | ${s.falseAlarms} | ${FALSE_ALARM_CAUSES.map((c) => s.falseAlarmCauses[c]).join(' | ')} | ${s.daysNeedingWater} | ${s.daysNeedingWater - s.daysAdvisedInTime} | ${MISS_CAUSES.map((c) => s.missCauses[c]).join(' | ')} | ${hours(median(s.leads))} |`;
    }),
  ].join('\n');
}

/** Who each goals line is about. */
const GOAL_ROWS: Record<'fieldhook' | RealRootMethod, string> = {
  fieldhook: 'fieldhook',
  fieldhookRootDepth: 'real root depth, one probe averaging it',
  fieldhookRootZone: 'real root depth, probe over the roots\' depth of the day',
  fieldhookGrowing: 'registered as it grows: real root depths and the crop\'s own stage lengths',
};

export function goalsLine(g: GroupResult, method: 'fieldhook' | RealRootMethod = 'fieldhook'): string {
  // Beside the default row's forecast goal, not in it: the same forecast given the record's rain.
  const perfect = method === 'fieldhook' && g.forecastPerfect.cases > 0
    ? `; with the record's rain as a forecast: ${relative(changeRatio(g.forecastPerfect), 1)} the better baseline`
    : '';
  const goals = goalsOf(g, method).map((x, k, all) => ({ ...x, value: k === all.length - 1 ? `${x.value}${perfect}` : x.value }));
  return `Goals (${GOAL_ROWS[method]}): ${goals.map((x) => `${x.goal}: ${x.met ? 'met' : '**not met**'} (${x.value})`).join('; ')}.`;
}

/** The rows the rain-ahead split is reported for: without a weather forecast, and with the record's. */
const RAIN_AHEAD_ROWS = {
  fieldhook: 'fieldhook (no weather forecast)',
  fieldhookForecast: 'the record\'s rain and ET0 as forecast',
} as const;

/**
 * The 24 h change's errors of the default row and the row with the record's weather as forecast,
 * against both truths, over every window and split by the record's rain over the 24 h ahead.
 */
export function rainAheadTable(g: GroupResult): string {
  const cells = (f: ForecastSums) => {
    const e = meanForecastError(f);
    return `${f.cases} | ${f2(e.changeModel)} | ${f2(e.changePersistence)} | ${f2(e.changeFaoYesterday)} | ${better(e.changeModel, e.changePersistence)} / ${better(e.changeModel, e.changeFaoYesterday)} |`;
  };
  const windows = [['every window', 'all'], [`dry (rain < ${RAIN_AHEAD_MM} mm)`, 'dry'], [`rain ≥ ${RAIN_AHEAD_MM} mm`, 'rain']] as const;
  return [
    '| row | truth | 24 h ahead (AquaCrop\'s record) | cases | 24 h change: fieldhook | persistence | FAO-56, yesterday\'s weather | fieldhook better than persistence / FAO-56 |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...(Object.keys(RAIN_AHEAD_ROWS) as (keyof typeof RAIN_AHEAD_ROWS)[]).flatMap((m) => {
      const f = forecastOf(g, m);
      return (['aquacrop', 'probe'] as const).flatMap((truth) => windows.map(([label, w]) => {
        const part = w === 'all' ? f : f[w];
        return `| ${RAIN_AHEAD_ROWS[m]} | ${truth === 'aquacrop' ? 'AquaCrop\'s root zone' : 'the probe 24 h later'} | ${label} | ${cells(truth === 'probe' ? part.probe : part)}`;
      }));
    }),
  ].join('\n');
}

/** What the rain-ahead split says, computed from it (AquaCrop's root zone, the goal's truth). */
export function rainAheadFinding(g: GroupResult): string {
  const d = meanForecastError(g.forecast.dry);
  const w = meanForecastError(g.forecast.rain);
  const p = meanForecastError(g.forecastPerfect.rain);
  const share = g.forecast.rain.cases / Math.max(1, g.forecast.cases);
  const losesInRain = w.changeModel > w.changePersistence;
  return `Without a weather forecast, fieldhook forecasts the 24 h change ${relative(d.changeModel, d.changePersistence)} persistence and ${relative(d.changeModel, d.changeFaoYesterday)} FAO-56 in the dry windows, `
    + `and ${relative(w.changeModel, w.changePersistence)} persistence and ${relative(w.changeModel, w.changeFaoYesterday)} FAO-56 in the ${pct(share)} of windows with rain ahead`
    + `${losesInRain ? ', where it cannot know the rain and forecasts as for a dry day' : ''}. `
    + (g.forecastPerfect.cases > 0
      ? `Given the record's rain and ET0 as the field's forecast (the baselines still on yesterday's weather, given no forecast), it is ${relative(p.changeModel, p.changePersistence)} persistence and ${relative(p.changeModel, p.changeFaoYesterday)} FAO-56 in those rain windows, `
        + `and over every window its change error is ${changeRatio(g.forecastPerfect).toFixed(3)} of the better baseline's (${relative(changeRatio(g.forecastPerfect), 1)} it; ${changeRatio(g.forecast).toFixed(3)} without the forecast), `
        + `${changeRatio(g.forecastPerfect) <= GOALS.forecastRatio ? 'meeting' : 'short of'} the goal's ${GOALS.forecastRatio}: a bound, as a real forecast misses part of the rain.`
      : 'The row with the record\'s rain as forecast was not run.');
}

export function sitesSection(r: AquaCropEvaluation, siteNames: Record<string, string>): string {
  return [...r.sites, r.all]
    .map((g) => {
      const title = g.group === 'all' ? 'All sites' : `${siteNames[g.group] ?? g.group}`;
      const rows = (['fieldhook', ...REAL_ROOT_LIST] as const).filter((m) => m === 'fieldhook' || g.forecastRealRoots[m].cases > 0);
      const goals = rows.map((m) => `\n\n${goalsLine(g, m)}`).join('');
      return `### ${title} (${g.seasons} seasons)\n\n${adviceTable(g)}${goals}`;
    })
    .join('\n\n');
}

/** A crop's scores over every site, per row. */
export function cropTotals(r: AquaCropEvaluation, crop: string): { advice: Record<Method, AdviceScore>; forecast: Record<'fieldhook' | RealRootMethod, ForecastError> } {
  const groups = r.crops.filter((g) => g.group.endsWith(`/${crop}`));
  return {
    advice: Object.fromEntries(METHODS.map((m) => [m, groups.reduce((a, g) => addScores(a, g.advice[m]), emptyScore())])) as Record<Method, AdviceScore>,
    forecast: Object.fromEntries((['fieldhook', ...REAL_ROOT_LIST] as const).map((m) => [m, groups.reduce((a, g) => addForecastErrors(a, forecastOf(g, m)), emptyForecastError())])) as Record<'fieldhook' | RealRootMethod, ForecastError>,
  };
}

/** Per crop over all sites: the default row next to the rows on real root depths. */
export function realRootsTable(r: AquaCropEvaluation, crops: readonly string[]): string {
  const rows = ['fieldhook', ...REAL_ROOT_LIST] as const;
  return [
    '| crop | row | registered root depth | advice events | false alarms | of which renewals | advised in time | median lead | 24 h change better than persistence / FAO-56 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...crops.flatMap((crop) => {
      const t = cropTotals(r, crop);
      const depth = (m: (typeof rows)[number]) => {
        const xs = r.seasons.filter((x) => x.id.includes(`-${crop}-`)).map((x) => (m === 'fieldhook' ? x.managedDepthM : x.aquaCropRootM));
        return `${Math.max(...xs).toFixed(1)} m`;
      };
      return rows.map((m) => {
        const s = t.advice[m];
        const e = meanForecastError(t.forecast[m]);
        return `| ${crop} | ${GOAL_ROWS[m]} | ${depth(m)} | ${s.advices} | ${pct(falseAlarmRate(s))} (${s.falseAlarms}) | ${s.falseAlarmCauses.renewal} | ${pct(hitRate(s))} (${s.daysAdvisedInTime} of ${s.daysNeedingWater}) | ${hours(median(s.leads))} | ${better(e.changeModel, e.changePersistence)} / ${better(e.changeModel, e.changeFaoYesterday)} |`;
      });
    }),
  ].join('\n');
}

/** "12 % better than" / "19 % worse than": an error against a baseline's. */
function relative(error: number, baseline: number): string {
  const x = 1 - error / baseline;
  return `${Math.abs(100 * x).toFixed(0)} % ${x >= 0 ? 'better' : 'worse'} than`;
}

/** The seasons with most false alarms: the traces to read first. */
export function worstSeasonsTable(seasons: readonly SeasonResult[], count = 10): string {
  const worst = [...seasons].sort((a, b) => b.fieldhook.falseAlarms - a.fieldhook.falseAlarms || a.id.localeCompare(b.id)).slice(0, count);
  return [
    '| season | advice events | false alarms | of which renewals | days needing water | missed | median lead | RAW in the season\'s second half, fieldhook / AquaCrop | managed depth / AquaCrop roots | learnt: dry days, TAW ×, Kc ×, RAW × |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...worst.map((r) => {
      const s = r.fieldhook;
      return `| ${r.id} | ${s.advices} | ${s.falseAlarms} | ${s.falseAlarmCauses.renewal} | ${s.daysNeedingWater} | ${s.daysNeedingWater - s.daysAdvisedInTime} | ${hours(median(s.leads))} | ${r.rawFieldhookMm.toFixed(0)} / ${r.rawAquaCropMm.toFixed(0)} mm | ${r.managedDepthM.toFixed(1)} / ${r.aquaCropRootM.toFixed(1)} m | ${r.learnt ? `${r.learnt.dry_days}, ${r.learnt.taw_factor.toFixed(2)}, ${r.learnt.kc_factor.toFixed(2)}, ${r.learnt.raw_factor.toFixed(2)}${r.learnt.applied ? '' : ' (not applied)'}` : '–'} |`;
    }),
  ].join('\n');
}

/** What the figures say, computed from them (so the note never drifts from the table). */
export function findings(r: AquaCropEvaluation): string[] {
  const all = r.all.advice.fieldhook;
  const forecast = r.all.advice.fieldhookForecast;
  const byCrop = (crop: string) => r.crops.filter((g) => g.group.endsWith(`/${crop}`)).reduce((a, g) => ({ fa: a.fa + g.advice.fieldhook.falseAlarms, adv: a.adv + g.advice.fieldhook.advices, leads: [...a.leads, ...g.advice.fieldhook.leads] }), { fa: 0, adv: 0, leads: [] as number[] });
  const crops = ['maize', 'tomato', 'potato'].map((c) => ({ crop: c, ...byCrop(c) }));
  const tomato = r.crops.filter((g) => g.group.endsWith('/tomato')).map((g) => meanForecastError(g.forecast));
  const others = r.crops.filter((g) => !g.group.endsWith('/tomato')).map((g) => meanForecastError(g.forecast));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const e = meanForecastError(r.all.forecast);
  const best = [...crops].sort((a, b) => a.fa / Math.max(1, a.adv) - b.fa / Math.max(1, b.adv))[0]!;
  const ratio = (crop: string) => mean(r.seasons.filter((x) => x.id.includes(`-${crop}-`)).map((x) => x.rawFieldhookMm / x.rawAquaCropMm));
  const missed = all.daysNeedingWater - all.daysAdvisedInTime;
  const maizeMissed = r.crops.filter((g) => g.group.endsWith('/maize')).reduce((a, g) => a + g.advice.fieldhook.daysNeedingWater - g.advice.fieldhook.daysAdvisedInTime, 0);
  const rainMatters = Math.abs(all.falseAlarms - forecast.falseAlarms) >= 0.05 * Math.max(1, all.falseAlarms);
  const fixed = r.all.advice.fieldhookFixed;
  const tawFactor = (crop: string) => {
    const xs = r.seasons.filter((x) => x.id.includes(`-${crop}-`) && x.learnt?.applied).map((x) => x.learnt!.taw_factor);
    return xs.length ? `× ${mean(xs).toFixed(2)} (${xs.length} seasons)` : 'not applied';
  };
  const cropForecast = (crop: string) => meanForecastError(r.crops.filter((g) => g.group.endsWith(`/${crop}`)).reduce((a, g) => addForecastErrors(a, g.forecast), emptyForecastError()));
  const tomatoForecast = cropForecast('tomato');
  const drier = (crop: string) => `${median(r.seasons.filter((x) => x.id.includes(`-${crop}-`)).map((x) => x.drierByMedian)).toFixed(1)} ×`;
  const drierFixed = (crop: string) => `${median(r.seasons.filter((x) => x.id.includes(`-${crop}-`)).map((x) => x.drierByMedianFixed)).toFixed(1)} ×`;
  const rawFactor = (crop: string) => {
    const xs = r.seasons.filter((x) => x.id.includes(`-${crop}-`) && x.learnt).map((x) => x.learnt!.raw_factor);
    return xs.length ? `× ${mean(xs).toFixed(2)}` : 'not learnt';
  };
  return [
    `**Learning the field**: with it, ${all.falseAlarms} false alarms of ${all.advices} advice events and ${pct(hitRate(all))} advised in time; without it (the preset's budget), ${fixed.falseAlarms} of ${fixed.advices} and ${pct(hitRate(fixed))}. TAW learnt by the season's end, mean where applied: maize ${tawFactor('maize')}, tomato ${tawFactor('tomato')}, potato ${tawFactor('potato')}; ${r.seasons.filter((x) => x.learnt && x.learnt.taw_factor >= 1.999).length} seasons ended at the learning's bound (× 2) while AquaCrop's potato roots hold three times the preset's 0.5 m. RAW moved (dry days beyond RAW drawn through unstressed), mean by the season's end: maize ${rawFactor('maize')}, tomato ${rawFactor('tomato')}, potato ${rawFactor('potato')}; ${r.seasons.filter((x) => x.learnt && x.learnt.raw_factor >= 1.999).length} seasons at its bound (× 2).`,
    `**False alarms by crop**: ${crops.map((c) => `${c.crop} ${c.fa} of ${c.adv} (${pct(c.fa / Math.max(1, c.adv))})`).join(', ')}; the fewest for ${best.crop}${best.crop === 'tomato' ? ", the crop whose preset depth (1.0 m) matches AquaCrop's roots" : ''}.`,
    `**Root-zone budget**: ${all.falseAlarmCauses['probe budget drier than the root zone']} false alarms came while fieldhook's depletion stood ≥ 0.3 RAW above AquaCrop's. The probe and the budget cover the preset's managed depth (potato 0.5 m, maize 1.2 m) while AquaCrop's roots reach 1.5 m and 2.3 m and draw on water the probe does not see. Over the seasons' second halves fieldhook's RAW (as learnt) is on average ${pct(ratio('potato'))} of AquaCrop's for potato, ${pct(ratio('maize'))} for maize, ${pct(ratio('tomato'))} for tomato.`,
    `**Renewals**: ${all.falseAlarmCauses.renewal} of ${all.falseAlarms} false alarms were an advice in force sent again because its depth grew or its start-by came earlier (the decision's one-need-one-message tolerances), while AquaCrop's root zone was still short of RAW; each reaches people.`,
    `**The probe's layer dries faster than the root zone**: while AquaCrop's depletion stood at 0.3 RAW or more, fieldhook's depletion as a fraction of the preset's RAW (no learning) was a median ${drierFixed('potato')} AquaCrop's for potato, ${drierFixed('maize')} for maize and ${drierFixed('tomato')} for tomato. AquaCrop's roots take most of their water from the top of the root zone, which the probe averages. The learnt drawdown ratio scales fieldhook's depletion and RAW by the same factor, so it changes when RAW is forecast to be reached but not where the depletion stands against it; what moves RAW against the depletion is stress, or its absence: a crop drawn beyond RAW at its usual pace has water below the probe. With RAW moved so, the depletion as a fraction of RAW stands a median ${drier('potato')} AquaCrop's for potato, ${drier('maize')} for maize and ${drier('tomato')} for tomato.`,
    `**Early rather than wrong**: ${all.falseAlarmCauses['came within 0.8 RAW']} false alarms came when AquaCrop's depletion reached 0.8 RAW within the window. Median lead: maize ${hours(median(crops[0]!.leads))}, tomato ${hours(median(crops[1]!.leads))}, potato ${hours(median(crops[2]!.leads))} — the deep maize root zone nears RAW slowly, and an advice in force (extended while due) covers the crossing days ahead.`,
    `**Rain**: ${all.falseAlarmCauses['rain ≥ 5 mm within 48 h']} false alarms had ≥ 5 mm of rain within 48 h; with the record's rain as a perfect forecast, false alarms go from ${all.falseAlarms} to ${forecast.falseAlarms} and advice events from ${all.advices} to ${forecast.advices}${rainMatters ? '.' : ': on these irrigated seasons the weather ahead is not what bounds the goals.'}`,
    `**Misses**: ${missed} of ${all.daysNeedingWater} days (${maizeMissed} of them maize), ${all.missCauses.stale} while stale, ${all.missCauses['advice lapsed within 24 h before']} within 24 h after an advice had lapsed (expired or withdrawn) while the depletion stayed near RAW, ${all.missCauses['probe budget wetter than the root zone']} with fieldhook's budget wetter than AquaCrop's.`,
    `**24 h forecast**: the level error (${e.model.toFixed(3)} of RAW against persistence ${e.persistence.toFixed(3)}, FAO-56 ${e.faoYesterday.toFixed(3)}) is mostly the budget's: for tomato it is ${mean(tomato.map((x) => x.model)).toFixed(3)} against ${mean(tomato.map((x) => x.persistence)).toFixed(3)} / ${mean(tomato.map((x) => x.faoYesterday)).toFixed(3)}, for maize and potato ${mean(others.map((x) => x.model)).toFixed(3)} against ${mean(others.map((x) => x.persistence)).toFixed(3)} / ${mean(others.map((x) => x.faoYesterday)).toFixed(3)}. The 24 h change is forecast ${relative(e.changeModel, e.changeFaoYesterday)} FAO-56 on yesterday's weather and ${relative(e.changeModel, e.changePersistence)} persistence; ${e.changeModel > e.changePersistence ? 'in a budget smaller than AquaCrop\'s root zone the same water use is a larger fraction of RAW.' : 'the 25 % goal asks for more.'} ${probeForecastFinding(r)}`,
    realRootsFinding(r),
    growingFinding(r),
    `**What bounds the goals**: on tomato, the crop whose preset root depth is AquaCrop's, fieldhook has ${pct(crops[1]!.fa / Math.max(1, crops[1]!.adv))} false alarms, a median lead of ${hours(median(crops[1]!.leads))} and a 24 h change forecast ${relative(tomatoForecast.changeModel, tomatoForecast.changePersistence)} persistence and ${relative(tomatoForecast.changeModel, tomatoForecast.changeFaoYesterday)} FAO-56. Maize and potato are where the goals fail: a probe over the preset's depth (FAO-56 Table 22: maize 1.2 m, potato 0.5 m) on roots AquaCrop grows to 2.3 m and 1.5 m reads a depletion that stands ${drierFixed('potato')} (potato) and ${drierFixed('maize')} (maize) as far towards RAW as the root zone's (${drier('potato')} and ${drier('maize')} once learning has moved RAW where the crop showed no stress): advice comes before AquaCrop's root zone needs it, and while AquaCrop's schedule waits for its deeper root zone the depth fieldhook would advise grows past the tolerance and is sent again. ${boundMeasured(r)}`,
  ];
}

/** The default row's forecast against the probe's own reading 24 h later, beside the goal's measure. */
function probeForecastFinding(r: AquaCropEvaluation): string {
  const p = meanForecastError(r.all.forecast.probe);
  const ratio = changeRatio(r.all.forecast.probe);
  const goalRatio = changeRatio(r.all.forecast);
  return `Against what it forecasts, the probe's own reading 24 h later in the forecast's budget, the 24 h change is forecast ${relative(p.changeModel, p.changePersistence)} persistence and ${relative(p.changeModel, p.changeFaoYesterday)} FAO-56 (${relative(ratio, 1)} the better baseline, against ${relative(goalRatio, 1)} it on AquaCrop's root zone)`
    + `${ratio > GOALS.forecastRatio ? ': the probe standing for the root zone is not what keeps the forecast from the 25 % goal' : ''}; `
    + `its level error there, ${p.model.toFixed(3)} of RAW, is ${relative(p.model, p.changePersistence)} holding the probe's reading now (${p.changePersistence.toFixed(3)}) and ${relative(p.model, p.persistence)} holding the predictor's smoothed depletion now (${p.persistence.toFixed(3)}): the forecasts start from the smoothed depletion, not from the reading.`;
}

/** The rows on real root depths, against the default: what the probe and budget cost. */
function realRootsFinding(r: AquaCropEvaluation): string {
  const deep = r.all.advice.fieldhookRootDepth;
  const zone = r.all.advice.fieldhookRootZone;
  if (deep.seasons === 0 || zone.seasons === 0) return '**The field registered with its real root depth**: not run.';
  const drierOf = (crop: string, m: RealRootMethod) => `${median(r.seasons.filter((x) => x.id.includes(`-${crop}-`)).map((x) => x.drierByMedianRealRoots[m])).toFixed(1)} ×`;
  const perCrop = (m: Method) => ['maize', 'tomato', 'potato'].map((c) => {
    const s = cropTotals(r, c).advice[m];
    return `${c} ${pct(falseAlarmRate(s))}`;
  }).join(', ');
  const e = meanForecastError(r.all.forecastRealRoots.fieldhookRootZone);
  const missedDeep = deep.daysNeedingWater - deep.daysAdvisedInTime;
  return `**The field registered with its real root depth** (AquaCrop's: the roots' depth at sowing and their deepest, ${r.seasons.filter((x) => x.id.includes('-maize-'))[0]?.aquaCropRootM.toFixed(1)} m for maize, ${r.seasons.filter((x) => x.id.includes('-potato-'))[0]?.aquaCropRootM.toFixed(1)} m for potato). `
    + `With one probe averaging that depth all season: ${pct(hitRate(deep))} advised in time, ${pct(falseAlarmRate(deep))} false alarms (${deep.falseAlarms} of ${deep.advices}), median lead ${hours(median(deep.leads))}; `
    + `${deep.missCauses['probe budget wetter than the root zone']} of its ${missedDeep} misses came with fieldhook's depletion ≥ 0.2 RAW below AquaCrop's: while the roots grow, the probe averages soil they have not reached, still at field capacity, and reads the root zone wetter than it is (fieldhook's depletion as a fraction of RAW a median ${drierOf('maize', 'fieldhookRootDepth')} AquaCrop's for maize, ${drierOf('potato', 'fieldhookRootDepth')} for potato). `
    + `With the probe averaging the depth the roots reach that day (${drierOf('maize', 'fieldhookRootZone')} and ${drierOf('potato', 'fieldhookRootZone')}): ${pct(hitRate(zone))} advised in time, ${pct(falseAlarmRate(zone))} false alarms (${zone.falseAlarms} of ${zone.advices}; ${perCrop('fieldhookRootZone')}, against ${perCrop('fieldhook')} by default), ${zone.falseAlarmCauses.renewal} of them renewals (${r.all.advice.fieldhook.falseAlarmCauses.renewal} by default), median lead ${hours(median(zone.leads))}, the 24 h change forecast ${relative(e.changeModel, e.changePersistence)} persistence and ${relative(e.changeModel, e.changeFaoYesterday)} FAO-56.`;
}

/** The field registered as it grows, against the same probe and depths on the preset's stage lengths. */
function growingFinding(r: AquaCropEvaluation): string {
  const grow = r.all.advice.fieldhookGrowing;
  const zone = r.all.advice.fieldhookRootZone;
  if (grow.seasons === 0) return '**The field registered as it grows**: not run.';
  const perCrop = (m: Method) => ['maize', 'tomato', 'potato'].map((c) => `${c} ${pct(falseAlarmRate(cropTotals(r, c).advice[m]))}`).join(', ');
  const drierOf = (crop: string) => `${median(r.seasons.filter((x) => x.id.includes(`-${crop}-`)).map((x) => x.drierByMedianRealRoots.fieldhookGrowing)).toFixed(1)} ×`;
  const causes = FALSE_ALARM_CAUSES.filter((c) => grow.falseAlarmCauses[c] > 0).map((c) => `${c} ${grow.falseAlarmCauses[c]}`).join(', ');
  const missed = grow.daysNeedingWater - grow.daysAdvisedInTime;
  const e = meanForecastError(r.all.forecastRealRoots.fieldhookGrowing);
  return `**The field registered as it grows** (AquaCrop's root depths and the crop's own stage lengths, the probe over the roots of the day): `
    + `${pct(hitRate(grow))} advised in time, ${pct(falseAlarmRate(grow))} false alarms (${grow.falseAlarms} of ${grow.advices}; ${perCrop('fieldhookGrowing')}), against ${pct(hitRate(zone))} and ${pct(falseAlarmRate(zone))} (${zone.falseAlarms} of ${zone.advices}; ${perCrop('fieldhookRootZone')}) on the preset's stage lengths; `
    + `median lead ${hours(median(grow.leads))} (${hours(median(zone.leads))}); fieldhook's depletion as a fraction of RAW a median ${drierOf('maize')} AquaCrop's for maize, ${drierOf('potato')} for potato. `
    + `Its false alarms by first cause: ${causes || 'none'}; its ${missed} misses: ${MISS_CAUSES.filter((c) => grow.missCauses[c] > 0).map((c) => `${c} ${grow.missCauses[c]}`).join(', ') || 'none'}. `
    + `The 24 h change forecast ${relative(e.changeModel, e.changePersistence)} persistence and ${relative(e.changeModel, e.changeFaoYesterday)} FAO-56.`;
}

/** The bound, as the rows on real root depths measure it. */
function boundMeasured(r: AquaCropEvaluation): string {
  const zone = r.all.advice.fieldhookRootZone;
  if (zone.seasons === 0) return '';
  const base = r.all.advice.fieldhook;
  const fixed = r.all.advice.fieldhookFixed;
  const unmet = goalsOf(r.all, 'fieldhookRootZone').filter((g) => !g.met);
  return `Measured: the same predictor, model and decision on the same seasons, told AquaCrop's root depths and read through a probe over the roots' depth of the day, go from ${pct(falseAlarmRate(fixed))} (the preset's budget; ${pct(falseAlarmRate(base))} learning the field) to ${pct(falseAlarmRate(zone))} false alarms and from ${pct(hitRate(fixed))} (${pct(hitRate(base))}) to ${pct(hitRate(zone))} advised in time; `
    + `told the depths but read through one probe over the deepest roots, advice comes late while the roots grow (${pct(hitRate(r.all.advice.fieldhookRootDepth))} in time). `
    + (deepRootsCutHalf(r)
      ? `So most of the false alarms on maize and potato are the probe's and the budget's: what fieldhook is told and what its probe averages must both be the root zone. `
      : 'On maize and potato the real root depth leaves most of the false alarms: they are not the probe\'s and the budget\'s alone. ')
    + (unmet.length === 0 ? 'On such a field every goal is met.' : `On such a field what is left of the goals: ${unmet.map((g) => `${g.goal} (${g.value})`).join('; ')}.`)
    + growingMeasured(r);
}

/** The field registered as it grows: does it reach the false-alarm goal with advice in time? */
function growingMeasured(r: AquaCropEvaluation): string {
  const grow = r.all.advice.fieldhookGrowing;
  if (grow.seasons === 0) return '';
  const zone = r.all.advice.fieldhookRootZone;
  const met = falseAlarmRate(grow) <= GOALS.falseAlarmRate && hitRate(grow) >= GOALS.hitRate;
  const unmet = goalsOf(r.all, 'fieldhookGrowing').filter((g) => !g.met);
  return ` Registered as it grows as well, with the crop's own stage lengths (its roots reaching their deepest when AquaCrop's do), the field goes from ${pct(falseAlarmRate(zone))} to ${pct(falseAlarmRate(grow))} false alarms (${grow.falseAlarms} of ${grow.advices}) at ${pct(hitRate(grow))} advised in time: `
    + (met
      ? `the false-alarm goal (≤ ${pct(GOALS.falseAlarmRate)}) is met while ${pct(GOALS.hitRate)} or more is advised in time. `
      : `the false-alarm goal (≤ ${pct(GOALS.falseAlarmRate)}) with ${pct(GOALS.hitRate)} or more advised in time is still not met (its causes: the table "Causes, with the field registered as it grows"). `)
    + (unmet.length === 0 ? 'Every goal is met on it.' : `What is left of the goals on it: ${unmet.map((g) => `${g.goal} (${g.value})`).join('; ')}.`);
}

/** Did the real root depth, read over the roots, at least halve maize's and potato's false-alarm share on the preset's budget? */
function deepRootsCutHalf(r: AquaCropEvaluation): boolean {
  return ['maize', 'potato'].every((crop) => {
    const t = cropTotals(r, crop).advice;
    return falseAlarmRate(t.fieldhookRootZone) <= 0.5 * falseAlarmRate(t.fieldhookFixed);
  });
}
