/**
 * The status page's soil chart, drawn into a stand-in DOM that keeps every attribute: no
 * coordinate may be NaN, whatever the field has (Chromium logs each as an error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Drawn {
  tag: string;
  attrs: Record<string, string>;
  children: (Drawn | string)[];
  setAttribute(k: string, v: string): void;
  append(c: Drawn | string): void;
}

const element = (tag: string): Drawn => ({
  tag,
  attrs: {},
  children: [],
  setAttribute(k, v) {
    this.attrs[k] = v;
  },
  append(c) {
    this.children.push(c);
  },
});
const everyAttribute = (d: Drawn): string[] => [...Object.values(d.attrs), ...d.children.flatMap((c) => (typeof c === 'string' ? [] : everyAttribute(c)))];

describe('the soil chart', () => {
  const realDocument = (globalThis as { document?: unknown }).document;
  beforeAll(() => {
    (globalThis as { document?: unknown }).document = { createElementNS: (_ns: string, tag: string) => element(tag) };
  });
  afterAll(() => {
    (globalThis as { document?: unknown }).document = realDocument;
  });

  it('draws a field without readings or a known soil on a plain axis, with no NaN anywhere', async () => {
    // @ts-expect-error: the page's own JavaScript, served as it is.
    const { soilChart } = (await import('../../../services/status/public/chart.js')) as { soilChart: (h: unknown, s: unknown, end: number) => Drawn };
    const end = Date.parse('2026-07-06T12:00:00Z');
    const empty = { start: new Date(end - 72 * 3_600_000).toISOString(), step_ms: 3_600_000, soil_moisture: Array(72).fill(null), rainfall_mm: Array(72).fill(null) };
    for (const soil of [null, { theta_fc: null, theta_wp: null, theta_raw: null }]) {
      const drawn = soilChart(empty, soil, end);
      expect(everyAttribute(drawn).filter((v) => v.includes('NaN'))).toEqual([]);
      expect(JSON.stringify(drawn)).toContain('no soil moisture in the last 72 h');
    }
  });
});
