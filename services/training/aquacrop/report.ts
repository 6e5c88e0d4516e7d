/** The AquaCrop evaluation as Markdown: per-site tables, the forecast's error, goals, and the traces behind the misses. */
import { METHOD_LABELS, METHODS, meanForecastError, type AquaCropEvaluation, type GroupResult, type Method } from './evaluate.js';
import { FALSE_ALARM_CAUSES, MISS_CAUSES, median, type AdviceScore } from './score.js';

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

export function forecastTable(groups: readonly GroupResult[]): string {
  const f2 = (x: number) => x.toFixed(3);
  const better = (model: number, baseline: number) => `${((1 - model / baseline) * 100).toFixed(0)} %`;
  return [
    '| group | cases | fieldhook | persistence | FAO-56, yesterday\'s weather | fieldhook better than persistence / FAO-56 | 24 h change: fieldhook | persistence | FAO-56 | better than persistence / FAO-56 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...groups.map((g) => {
      const e = meanForecastError(g.forecast);
      return `| ${g.group} | ${g.forecast.cases} | ${f2(e.model)} | ${f2(e.persistence)} | ${f2(e.faoYesterday)} | ${better(e.model, e.persistence)} / ${better(e.model, e.faoYesterday)} | ${f2(e.changeModel)} | ${f2(e.changePersistence)} | ${f2(e.changeFaoYesterday)} | ${better(e.changeModel, e.changePersistence)} / ${better(e.changeModel, e.changeFaoYesterday)} |`;
    }),
  ].join('\n');
}

/** Goal by goal for fieldhook (without forecast) at one site. */
export function goalsOf(g: GroupResult): { goal: string; met: boolean; value: string }[] {
  const s = g.advice.fieldhook;
  const lead = median(s.leads);
  const e = meanForecastError(g.forecast);
  const ratio = e.changeModel / Math.min(e.changePersistence, e.changeFaoYesterday);
  return [
    { goal: `advised in time ≥ ${pct(GOALS.hitRate)}`, met: hitRate(s) >= GOALS.hitRate, value: pct(hitRate(s)) },
    { goal: `false alarms ≤ ${pct(GOALS.falseAlarmRate)}`, met: falseAlarmRate(s) <= GOALS.falseAlarmRate, value: pct(falseAlarmRate(s)) },
    { goal: `median lead ${GOALS.leadH[0]}–${GOALS.leadH[1]} h`, met: lead >= GOALS.leadH[0] && lead <= GOALS.leadH[1], value: hours(lead) },
    { goal: '24 h forecast ≥ 25 % better than persistence and FAO-56 (change of depletion)', met: ratio <= GOALS.forecastRatio, value: `${((1 - ratio) * 100).toFixed(0)} % better than the better baseline` },
  ];
}

/** fieldhook's false alarms and misses by cause, per site and crop: the traces behind the figures. */
export function causesTable(groups: readonly GroupResult[]): string {
  return [
    `| site/crop | advice events | false alarms | ${FALSE_ALARM_CAUSES.join(' | ')} | days needing water | missed | ${MISS_CAUSES.map((c) => `missed: ${c}`).join(' | ')} | median lead |`,
    `|---|---:|---:|${FALSE_ALARM_CAUSES.map(() => '---:').join('|')}|---:|---:|${MISS_CAUSES.map(() => '---:').join('|')}|---:|`,
    ...groups.map((g) => {
      const s = g.advice.fieldhook;
      return `| ${g.group} | ${s.advices} | ${s.falseAlarms} | ${FALSE_ALARM_CAUSES.map((c) => s.falseAlarmCauses[c]).join(' | ')} | ${s.daysNeedingWater} | ${s.daysNeedingWater - s.daysAdvisedInTime} | ${MISS_CAUSES.map((c) => s.missCauses[c]).join(' | ')} | ${hours(median(s.leads))} |`;
    }),
  ].join('\n');
}

export function sitesSection(r: AquaCropEvaluation, siteNames: Record<string, string>): string {
  return [...r.sites, r.all]
    .map((g) => {
      const title = g.group === 'all' ? 'All sites' : `${siteNames[g.group] ?? g.group}`;
      const goals = g.group === 'all' ? '' : `\n\nGoals (fieldhook): ${goalsOf(g).map((x) => `${x.goal}: ${x.met ? 'met' : '**not met**'} (${x.value})`).join('; ')}.`;
      return `### ${title} (${g.seasons} seasons)\n\n${adviceTable(g)}${goals}`;
    })
    .join('\n\n');
}
