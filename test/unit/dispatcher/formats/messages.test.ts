import { describe, expect, it } from 'vitest';
import { CATALOGS, type MessageTemplate } from '../../../../services/dispatcher/messages/catalog.js';
import { renderMessage } from '../../../../services/dispatcher/messages/render-message.js';
import { ADVICE, CLEARED, RECOVERED, STALE } from './fixtures.js';

const FSI = '\u2068';
const PDI = '\u2069';
const RLM = '\u200f';
/** What a reader sees once the invisible direction marks are gone. */
const visible = (s: string) => s.replace(/[\u2068\u2069\u200f]/g, '');
const placeholders = (s: string) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();
const en = { locale: 'en', timeZone: 'Asia/Jerusalem' };
const he = { locale: 'he', timeZone: 'Asia/Jerusalem' };

describe('messages for people', () => {
  it('say an advice the way an agronomist does, times in the reader’s zone', () => {
    const data = { ...ADVICE.data, crop: 'tomato', soil: 'sandy_loam' };
    expect(renderMessage('irrigation.recommended', data, en).text).toBe(
      'North field (tomato, sandy loam): irrigate 18 mm net (21 mm gross) by Tue 06:00 — 41 mm of 54 mm readily available water used; valid until Wed 06:00',
    );
    // The payload the predictor sends today has no crop or soil: the sentence does without.
    expect(renderMessage('irrigation.recommended', ADVICE.data, en).text).toBe(
      'North field: irrigate 18 mm net (21 mm gross) by Tue 06:00 — 41 mm of 54 mm readily available water used; valid until Wed 06:00',
    );
    expect(renderMessage('irrigation.recommended', ADVICE.data, { locale: 'en', timeZone: 'UTC' }).text).toContain('by Tue 03:00');
  });

  it('say a silent sensor and a refilled field', () => {
    expect(renderMessage('sensor.stale', { ...STALE.data, device: 'n-17', last_reading_at: '2026-07-07T06:10:00Z' }, en).text).toBe(
      'Sensor n-17 silent since Tue 09:10 — no advice for North field until it reports',
    );
    expect(renderMessage('sensor.stale', STALE.data, en).text).toBe('No fresh readings from North field — no advice until its sensors report');
    expect(renderMessage('sensor.recovered', RECOVERED.data, en)).toMatchObject({ title: 'North field: readings again', text: 'Fresh readings from North field again (stale since Tue 12:40) — advice resumes', tone: 'ok' });
    expect(renderMessage('sensor.recovered', { farm: 'f1', field: 'north' }, en).text).toBe('Fresh readings from North field again — advice resumes');
    expect(renderMessage('irrigation.cleared', { farm: 'f1', field: 'north', refilled_mm: 14 }, en).text).toBe('North field refilled by 14 mm of rain — advice cleared');
    expect(renderMessage('irrigation.cleared', CLEARED.data, en).text).toBe(
      'North field refilled — 6.1 mm of 54 mm readily available water used; advice cleared',
    );
  });

  it('say what the predictor adds when it knows it: the forecast rain counted, an advice withdrawn for rain, a crop without a soil preset', () => {
    const rain = { ...ADVICE.data, expected_rain_mm: 4, expected_rain_by: '2026-07-07T02:00:00Z' };
    expect(renderMessage('irrigation.recommended', rain, en).text).toBe(
      'North field: irrigate 18 mm net (21 mm gross) by Tue 06:00 — 41 mm of 54 mm readily available water used; 4 mm of rain expected by Tue 05:00 counted; valid until Wed 06:00',
    );
    const withdrawn = { farm: 'f1', field: 'north', depletion_mm: 30, raw_mm: 54, hold: { expected_rain_mm: 14, by: '2026-07-07T12:00:00Z' }, reason: 'hold' };
    expect(renderMessage('irrigation.cleared', withdrawn, en).text).toBe('North field: advice withdrawn — 14 mm of rain expected by Tue 15:00');
    expect(visible(renderMessage('irrigation.cleared', withdrawn, he).text)).toBe('שדה North: ההמלצה נמשכה — צפויים 14 מ״מ גשם עד יום ג׳ 15:00');
    expect(renderMessage('irrigation.recommended', { ...ADVICE.data, crop: 'maize-field' }, en).text).toMatch(/^North field \(field maize\): irrigate/);
    // An advice known only by its times (a chat's status answer) still reads as one.
    expect(renderMessage('irrigation.recommended', { field: 'north', start_by: ADVICE.data.start_by, valid_until: ADVICE.data.valid_until }, en).text).toBe(
      'North field: irrigate by Tue 06:00; valid until Wed 06:00',
    );
    // A clearance with nothing but its reason (the season is over) says only that.
    expect(renderMessage('irrigation.cleared', { farm: 'f1', field: 'north', reason: 'harvested 2026-07-06' }, en).text).toBe('North field: advice cleared');
  });

  it('give event types without a template a generic readable line', () => {
    expect(renderMessage('frost.warning', { farm: 'f1', field: 'north' }, en)).toMatchObject({ title: 'frost.warning', text: 'frost.warning — North field (f1)', tone: 'info' });
    expect(renderMessage('frost.warning', {}, en).text).toBe('frost.warning');
  });

  it('offer the answer of an advice: farm, field and net depth to 0.1 mm', () => {
    expect(renderMessage('irrigation.recommended', { ...ADVICE.data, net_depth_mm: 18.26 }, en).action).toEqual({ label: 'Irrigated 18.3 mm', farm: 'f1', field: 'north', depthMm: 18.3 });
    expect(renderMessage('sensor.stale', STALE.data, en).action).toBeUndefined();
  });

  it('render Hebrew right to left with every Latin name and number isolated', () => {
    const m = renderMessage('irrigation.recommended', ADVICE.data, he);
    expect(m.direction).toBe('rtl');
    expect(m.text.startsWith(RLM)).toBe(true);
    expect(m.text).toContain(`${FSI}North${PDI}`);
    expect(m.text).toContain(`${FSI}18 מ״מ${PDI}`);
    expect(visible(m.text)).toBe('שדה North: להשקות 18 מ״מ נטו (21 מ״מ ברוטו) עד יום ג׳ 06:00 — נוצלו 41 מ״מ מתוך 54 מ״מ מים זמינים בקלות; בתוקף עד יום ד׳ 06:00');
    // Isolates come in pairs: none is left open to reorder the rest of the line.
    expect(m.text.split(FSI).length).toBe(m.text.split(PDI).length);
  });

  it('render an unknown locale in English (the API refuses one when a subscription is saved)', () => {
    expect(renderMessage('irrigation.recommended', ADVICE.data, { locale: 'fr', timeZone: 'UTC' }).locale).toBe('en');
  });

  it('ship every English message in every locale, with the same placeholders', () => {
    const reference = CATALOGS.en!;
    for (const [locale, catalog] of Object.entries(CATALOGS)) {
      const same = (a: MessageTemplate, b: MessageTemplate, key: string) => {
        expect(placeholders(b.title), `${locale} ${key} title`).toEqual(placeholders(a.title));
        expect(b.text.map(placeholders), `${locale} ${key} text`).toEqual(a.text.map(placeholders));
        expect(b.button && placeholders(b.button), `${locale} ${key} button`).toEqual(a.button && placeholders(a.button));
      };
      expect(Object.keys(catalog.messages).sort(), locale).toEqual(Object.keys(reference.messages).sort());
      for (const key of Object.keys(reference.messages)) same(reference.messages[key]!, catalog.messages[key]!, key);
      same(reference.fallback, catalog.fallback, 'fallback');
      expect(Object.keys(catalog.facts).sort()).toEqual(Object.keys(reference.facts).sort());
      expect(Object.keys(catalog.crops).sort()).toEqual(Object.keys(reference.crops).sort());
      expect(Object.keys(catalog.soils).sort()).toEqual(Object.keys(reference.soils).sort());
    }
  });

  it('render chat replies by message key', () => {
    expect(renderMessage('chat.irrigation_recorded', { field: 'north', depth_mm: 18 }, en).text).toBe('Recorded: North field irrigated 18 mm');
    expect(visible(renderMessage('chat.irrigation_recorded', { field: 'north', depth_mm: 18 }, he).text)).toBe('נרשם: שדה North הושקה 18 מ״מ');
  });
});
