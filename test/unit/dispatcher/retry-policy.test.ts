import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, DEFAULT_RETRY_SCHEDULE_MS, nextAttemptAt, parseRetryAfter } from '../../../services/dispatcher/retry-policy.js';

const H = 3_600_000;

describe('retry table', () => {
  it('is the documented schedule and spans more than 24 h', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([0, 5_000, 300_000, 1_800_000, 2 * H, 5 * H, 10 * H, 10 * H]);
    expect(DEFAULT_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * H);
  });

  it('keeps each delay within ±20 % and the last attempt ≥ 24 h after the first, whatever the jitter', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 8, maxLength: 8 }), (draws) => {
        let i = 0;
        const random = () => draws[i++]!;
        const first = 1_000;
        let last = first;
        for (let done = 1; done < DEFAULT_RETRY_SCHEDULE_MS.length; done++) {
          const at = nextAttemptAt(DEFAULT_RETRY_POLICY, done, last, first, random)!;
          const base = DEFAULT_RETRY_SCHEDULE_MS[done]!;
          if (done < DEFAULT_RETRY_SCHEDULE_MS.length - 1) {
            expect(at - last).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
            expect(at - last).toBeLessThanOrEqual(Math.ceil(base * 1.2));
          }
          last = at;
        }
        expect(last - first).toBeGreaterThanOrEqual(24 * H);
        expect(nextAttemptAt(DEFAULT_RETRY_POLICY, DEFAULT_RETRY_SCHEDULE_MS.length, last, first, random)).toBeNull();
      }),
    );
  });

  it('keeps the last attempt ≥ 24 h after the first when every failure asked to come back in seconds', () => {
    const first = 1_000;
    let last = first;
    for (let done = 1; done < DEFAULT_RETRY_SCHEDULE_MS.length; done++) {
      const at = nextAttemptAt(DEFAULT_RETRY_POLICY, done, last, first, () => 0.5, 3_000)!;
      // A Retry-After is honoured as asked, except that it may not end the series early.
      if (done < DEFAULT_RETRY_SCHEDULE_MS.length - 1) expect(at - last).toBe(3_000);
      last = at;
    }
    expect(last - first).toBeGreaterThanOrEqual(24 * H);
    expect(nextAttemptAt(DEFAULT_RETRY_POLICY, DEFAULT_RETRY_SCHEDULE_MS.length, last, first, () => 0.5, 3_000)).toBeNull();
  });

  it('parses Retry-After as seconds or an HTTP date, capped', () => {
    const now = Date.parse('2026-07-06T10:00:00Z');
    expect(parseRetryAfter('120', now, 10 * H)).toBe(120_000);
    expect(parseRetryAfter('Mon, 06 Jul 2026 10:05:00 GMT', now, 10 * H)).toBe(300_000);
    expect(parseRetryAfter('999999', now, 10 * H)).toBe(10 * H);
    expect(parseRetryAfter('soon', now, 10 * H)).toBeNull();
    expect(parseRetryAfter(undefined, now, 10 * H)).toBeNull();
  });
});
