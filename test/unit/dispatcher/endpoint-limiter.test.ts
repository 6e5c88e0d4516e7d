import { describe, expect, it } from 'vitest';
import { createEndpointLimiter } from '../../../services/dispatcher/endpoint-limiter.js';

const T0 = Date.parse('2026-07-06T00:00:00Z');

describe('endpoint limiter', () => {
  it('caps concurrency, honours a rate limit and opens, half-opens and closes the breaker', () => {
    let now = T0;
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const limiter = createEndpointLimiter(clock, { concurrency: 3, failureThreshold: 2, cooldownMs: 1_000 });
    expect(limiter.available('a', null)).toBe(3);
    limiter.acquire('a');
    expect(limiter.available('a', null)).toBe(2);
    limiter.release('a', false);
    limiter.acquire('a');
    limiter.release('a', false);
    expect(limiter.state('a')).toBe('open');
    expect(limiter.available('a', null)).toBe(0);
    now += 1_000;
    expect(limiter.state('a')).toBe('half-open');
    expect(limiter.available('a', null)).toBe(1);
    limiter.acquire('a');
    expect(limiter.available('a', null)).toBe(0);
    limiter.release('a', false);
    // A failed probe doubles the cooldown.
    expect(limiter.openUntil('a')).toBe(now + 2_000);
    now += 2_000;
    limiter.acquire('a');
    limiter.release('a', true);
    expect(limiter.state('a')).toBe('closed');
    expect(limiter.available('a', null)).toBe(3);

    // 2 per second: two now, then one more after half a second.
    expect(limiter.available('b', 2)).toBe(2);
    limiter.acquire('b');
    limiter.acquire('b');
    limiter.release('b', true);
    limiter.release('b', true);
    expect(limiter.available('b', 2)).toBe(0);
    now += 500;
    expect(limiter.available('b', 2)).toBe(1);
  });
});
