import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isValidTypePattern, matchesFilter } from '../../../services/dispatcher/matching.js';
import { assertValidSecret, createSigner, generateSecret } from '../../../services/dispatcher/signer.js';

describe('signer', () => {
  const body = JSON.stringify({ type: 'irrigation.recommended', id: 'evt_1', timestamp: '2026-07-06T10:00:00Z', data: { depth_mm: 12 } });

  it('produces headers the standardwebhooks package verifies, for each of several secrets', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const headers = createSigner().sign('evt_1', Date.now(), body, [a, b]);
    expect(headers['webhook-id']).toBe('evt_1');
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [a, b]) expect(new Webhook(secret).verify(body, { ...headers })).toMatchObject({ id: 'evt_1' });
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(a).verify(body.replace('12', '13'), { ...headers })).toThrow();
  });

  it('uses whole seconds for the timestamp', () => {
    const headers = createSigner().sign('evt_1', 1_783_332_000_999, body, [generateSecret()]);
    expect(headers['webhook-timestamp']).toBe('1783332000');
  });

  it('generates 32-byte whsec_ secrets and validates supplied ones', () => {
    const s = generateSecret();
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(() => assertValidSecret(s)).not.toThrow();
    for (const bad of ['', 'whsec_', 'whsec_!!!!', `whsec_${Buffer.alloc(8).toString('base64')}`, Buffer.alloc(32).toString('base64')]) {
      expect(() => assertValidSecret(bad)).toThrowError(expect.objectContaining({ code: 'FH_ERR_SUBSCRIPTION_INVALID_SECRET' }));
    }
  });
});

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
