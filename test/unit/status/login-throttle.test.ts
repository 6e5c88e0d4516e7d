import { describe, expect, it } from 'vitest';
import { createLoginThrottle } from '../../../services/status/login-throttle.js';
import { createManualClock } from '../../helpers/manual-clock.js';

describe('the login throttle', () => {
  it('holds an address back after too many refusals until its window ends, and no other address', async () => {
    const clock = createManualClock(0);
    const throttle = createLoginThrottle(clock, { maxFailures: 3, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterS('10.0.0.1')).toBe(0);
      throttle.failed('10.0.0.1');
    }
    expect(throttle.retryAfterS('10.0.0.1')).toBe(60);
    expect(throttle.retryAfterS('10.0.0.2')).toBe(0);
    await clock.advance(59_500);
    expect(throttle.retryAfterS('10.0.0.1')).toBe(1);
    await clock.advance(500);
    expect(throttle.retryAfterS('10.0.0.1')).toBe(0);
  });

  it('forgets the oldest address beyond its capacity', () => {
    const throttle = createLoginThrottle(createManualClock(0), { maxFailures: 1, windowMs: 60_000, maxAddresses: 2 });
    for (const a of ['a', 'b', 'c']) throttle.failed(a);
    expect(['a', 'b', 'c'].map((a) => throttle.retryAfterS(a))).toEqual([0, 60, 60]);
  });
});
