// Small SVG drawings of the status page: the depletion bar and the soil-moisture and rain chart.
// Plain DOM, no library: the page ships as it is, with nothing to build.

const SVG = 'http://www.w3.org/2000/svg';
const HOUR_MS = 3_600_000;

/** An SVG element with attributes and children. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/**
 * Root-zone depletion against RAW and TAW: the bar is TAW (empty root zone at its right end), the
 * fill is the depletion, the mark is RAW (advice comes before the fill reaches it).
 */
export function depletionBar(water) {
  const width = 300;
  const taw = Math.max(water.taw_mm, 1e-9);
  const x = (mm) => Math.max(0, Math.min(width, (mm / taw) * width));
  const level = water.depletion_mm >= water.raw_mm ? 'over' : water.depletion_mm >= 0.8 * water.raw_mm ? 'near' : 'ok';
  const label = `Depletion ${fmt(water.depletion_mm)} mm of ${fmt(water.taw_mm)} mm total available water; readily available water ${fmt(water.raw_mm)} mm`;
  return svg(
    'svg',
    { class: 'bar', viewBox: `0 0 ${width} 18`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
    svg('title', {}, label),
    svg('rect', { class: 'bar-track', x: 0, y: 2, width, height: 14, rx: 3 }),
    svg('rect', { class: `bar-fill ${level}`, x: 0, y: 2, width: x(water.depletion_mm), height: 14, rx: 3 }),
    svg('line', { class: 'bar-raw', x1: x(water.raw_mm), x2: x(water.raw_mm), y1: 0, y2: 18 }),
  );
}

/**
 * Three days of soil moisture (line, left scale, m3/m3) with field capacity, the RAW threshold and
 * the wilting point as dashed lines, and rain per hour (bars, right scale, mm).
 */
export function soilChart(history, soil, endMs) {
  const W = 320;
  const H = 150;
  const pad = { l: 34, r: 32, t: 8, b: 20 };
  const startMs = Date.parse(history.start);
  const spanMs = Math.max(endMs - startMs, HOUR_MS);
  const points = history.soil_moisture.map((sm, i) => ({ t: startMs + i * history.step_ms, sm, rain: history.rainfall_mm[i] }));
  const values = points.map((p) => p.sm).filter((v) => v !== null);
  const lines = soil ? [soil.theta_fc, soil.theta_wp, soil.theta_raw].filter((v) => v !== null) : [];
  // Nothing to scale by (no readings, no soil known): a plain 0–0.5 m3/m3 axis rather than NaN.
  const scale = [...values, ...lines];
  const lo = scale.length > 0 ? Math.max(0, Math.min(...scale) - 0.02) : 0;
  const hi = scale.length > 0 ? Math.max(...scale, lo + 0.05) + 0.02 : 0.5;
  const rainMax = Math.max(2, ...points.map((p) => p.rain ?? 0));
  const x = (t) => pad.l + ((t - startMs) / spanMs) * (W - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  const yRain = (mm) => H - pad.b - (mm / rainMax) * (H - pad.t - pad.b) * 0.5;

  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Soil moisture and rain, last three days' });
  chart.append(svg('title', {}, 'Soil moisture (line, m3/m3) and rain per hour (bars, mm), last three days'));

  // Midnights (local time) as day marks.
  const day = new Date(startMs);
  day.setHours(24, 0, 0, 0);
  for (let t = day.getTime(); t < endMs; t += 24 * HOUR_MS) {
    chart.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: pad.t, y2: H - pad.b }));
    const label = new Date(t).toLocaleDateString(undefined, { weekday: 'short' });
    chart.append(svg('text', { class: 'axis', x: x(t) + 2, y: H - 6 }, label));
  }
  for (const v of [lo, (lo + hi) / 2, hi]) {
    chart.append(svg('text', { class: 'axis', x: pad.l - 3, y: y(v) + 3, 'text-anchor': 'end' }, v.toFixed(2)));
  }
  chart.append(svg('text', { class: 'axis', x: W - pad.r + 3, y: yRain(rainMax) + 3 }, `${fmt(rainMax)} mm`));

  for (const p of points) {
    if (!p.rain) continue;
    const w = Math.max(1, (HOUR_MS / spanMs) * (W - pad.l - pad.r) - 0.5);
    chart.append(svg('rect', { class: 'rain', x: x(p.t), y: yRain(p.rain), width: w, height: H - pad.b - yRain(p.rain) }));
  }
  if (soil) {
    const ref = [
      ['fc', soil.theta_fc, 'field capacity'],
      ['raw', soil.theta_raw, 'RAW threshold'],
      ['wp', soil.theta_wp, 'wilting point'],
    ];
    for (const [cls, v, name] of ref) {
      if (v === null || v === undefined) continue;
      chart.append(svg('line', { class: `ref ${cls}`, x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }, svg('title', {}, `${name} ${v.toFixed(3)}`)));
    }
  }
  // The line breaks where an hour has no reading.
  let path = '';
  let previous = null;
  for (const p of points) {
    if (p.sm === null) continue;
    path += `${previous !== null && p.t - previous <= 2 * HOUR_MS ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.sm).toFixed(1)}`;
    previous = p.t;
  }
  if (path) chart.append(svg('path', { class: 'moisture', d: path }));
  else chart.append(svg('text', { class: 'axis', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no soil moisture in the last 72 h'));
  return chart;
}
