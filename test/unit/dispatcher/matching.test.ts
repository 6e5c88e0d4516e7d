import { describe, expect, it } from 'vitest';
import { isValidTypePattern, matchesFilter } from '../../../services/dispatcher/matching.js';

describe('subscription matching', () => {
  const sub = (events: string[], farms: string[] = [], fields: string[] = []) => ({ events, farms, fields });
  const ev = (type: string, farm: string | null = 'f1', field: string | null = 'north') => ({ type, farm, field });

  it('matches types, families and *', () => {
    expect(matchesFilter(sub(['*']), ev('irrigation.recommended'))).toBe(true);
    expect(matchesFilter(sub(['irrigation.*']), ev('irrigation.cleared'))).toBe(true);
    expect(matchesFilter(sub(['irrigation.*']), ev('sensor.stale'))).toBe(false);
    expect(matchesFilter(sub(['sensor.stale']), ev('sensor.stale'))).toBe(true);
  });

  it('never sends operational events to a wildcard, only when named', () => {
    for (const type of ['endpoint.disabled', 'delivery.exhausted', 'webhook.test']) {
      expect(matchesFilter(sub(['*']), ev(type))).toBe(false);
    }
    expect(matchesFilter(sub(['endpoint.*']), ev('endpoint.disabled'))).toBe(false);
    expect(matchesFilter(sub(['endpoint.disabled']), ev('endpoint.disabled'))).toBe(true);
  });

  it('filters on farm and field; an event without them does not match a scoped subscription', () => {
    expect(matchesFilter(sub(['*'], ['f1']), ev('sensor.stale', 'f1'))).toBe(true);
    expect(matchesFilter(sub(['*'], ['f2']), ev('sensor.stale', 'f1'))).toBe(false);
    expect(matchesFilter(sub(['*'], ['f1']), ev('sensor.stale', null))).toBe(false);
    expect(matchesFilter(sub(['*'], [], ['north']), ev('sensor.stale', 'f9', 'north'))).toBe(true);
    expect(matchesFilter(sub(['*'], [], ['south']), ev('sensor.stale', 'f9', 'north'))).toBe(false);
  });

  it('validates type patterns', () => {
    for (const ok of ['*', 'irrigation.*', 'irrigation.recommended', 'a.b.c']) expect(isValidTypePattern(ok), ok).toBe(true);
    for (const bad of ['', 'irrigation', '*.recommended', 'Irrigation.x', 'a..b', 'a.*.b']) expect(isValidTypePattern(bad), bad).toBe(false);
  });
});
