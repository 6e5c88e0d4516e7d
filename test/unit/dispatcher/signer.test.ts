import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
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
