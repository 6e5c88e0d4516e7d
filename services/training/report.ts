/** Rendering of the evaluation: a Markdown report and an SVG figure, no plotting dependency. */
import type { ForecastScore } from './evaluation.js';

export interface MethodScores {
  model: ForecastScore;
  persistence: ForecastScore;
  faoYesterday: ForecastScore;
}

const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function scoreTable(scores: MethodScores): string {
  const rows: [string, ForecastScore][] = [
    ['irrigation model (ONNX)', scores.model],
    ['baseline: persistence', scores.persistence],
    ["baseline: FAO-56 balance, yesterday's weather", scores.faoYesterday],
  ];
  return [
    '| method | MAE 24 h (mm) | MAE 48 h (mm) | decision agreement | missed irrigations | false alarms |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      ([name, s]) =>
        `| ${name} | ${f2(s.mae24hMm)} | ${f2(s.mae48hMm)} | ${pct(s.decisionAgreement)} | ${s.missedIrrigations} | ${s.falseAlarms} |`,
    ),
  ].join('\n');
}

export interface ScatterPoint {
  truth: number;
  predicted: number;
}

/**
 * Two panels: predicted vs true depletion 24 h ahead (held-out fields), and MAE per method.
 */
export function renderEvaluationSvg(
  points: readonly ScatterPoint[],
  bars: readonly { label: string; mae: number; agreement: number }[],
): string {
  const W = 920;
  const H = 420;
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const pw = 400;
  const ph = H - m.t - m.b;
  const max = Math.ceil(Math.max(10, ...points.map((p) => Math.max(p.truth, p.predicted))) / 10) * 10;
  const sx = (v: number) => m.l + (v / max) * pw;
  const sy = (v: number) => m.t + ph - (v / max) * ph;
  const ticks = Array.from({ length: max / 10 + 1 }, (_, i) => i * 10).filter((t, _i, all) => all.length <= 11 || t % 20 === 0);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="22" font-size="14" font-weight="bold">Depletion 24 h ahead, held-out fields (mm)</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks) {
    parts.push(`<line x1="${sx(t)}" y1="${m.t + ph}" x2="${sx(t)}" y2="${m.t + ph + 5}" stroke="#999"/><text x="${sx(t)}" y="${m.t + ph + 18}" text-anchor="middle">${t}</text>`);
    parts.push(`<line x1="${m.l - 5}" y1="${sy(t)}" x2="${m.l}" y2="${sy(t)}" stroke="#999"/><text x="${m.l - 8}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(max)}" y2="${sy(max)}" stroke="#d33" stroke-dasharray="4 3"/>`);
  for (const p of points) {
    parts.push(`<circle cx="${sx(p.truth).toFixed(1)}" cy="${sy(p.predicted).toFixed(1)}" r="1.6" fill="#2b6cb0" fill-opacity="0.35"/>`);
  }
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">FAO-56 ground truth (mm)</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">model (mm)</text>`);

  const bx = m.l + pw + 110;
  const bw = W - bx - m.r;
  const maxMae = Math.max(...bars.map((b) => b.mae)) * 1.6;
  const barH = 36;
  parts.push(`<text x="${bx - 90}" y="22" font-size="14" font-weight="bold">MAE 24 h ahead and decision agreement</text>`);
  bars.forEach((b, i) => {
    const y = m.t + 20 + i * (barH + 24);
    const w = (b.mae / maxMae) * bw;
    parts.push(`<text x="${bx - 90}" y="${y - 4}">${b.label}</text>`);
    parts.push(`<rect x="${bx - 90}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${i === 0 ? '#2b6cb0' : '#a0aec0'}"/>`);
    parts.push(`<text x="${(bx - 90 + w + 6).toFixed(1)}" y="${y + barH / 2 + 4}">${b.mae.toFixed(2)} mm · decisions ${(100 * b.agreement).toFixed(1)} %</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
