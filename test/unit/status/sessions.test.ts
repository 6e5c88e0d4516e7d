import { describe, expect, it } from 'vitest';
import { createSessionStore, isAdminToken } from '../../../services/status/sessions.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const HOUR = 3_600_000;

describe('status page sessions', () => {
  it('a session lives until its expiry, then names nothing', async () => {
    const clock = createManualClock(1_000_000);
    const sessions = createSessionStore(clock, { ttlMs: 12 * HOUR, maxSessions: 10 });
    const { id, ttlMs } = sessions.create();
    expect(ttlMs).toBe(12 * HOUR);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await clock.advance(12 * HOUR - 1);
    expect(sessions.valid(id)).toBe(true);
    await clock.advance(1);
    expect(sessions.valid(id)).toBe(false);
    expect(sessions.size).toBe(0);
  });

  it('ending a session ends only that one; unknown and missing ids are never valid', () => {
    const sessions = createSessionStore(createManualClock(), { ttlMs: HOUR, maxSessions: 10 });
    const a = sessions.create().id;
    const b = sessions.create().id;
    expect(a).not.toBe(b);
    sessions.end(a);
    expect(sessions.valid(a)).toBe(false);
    expect(sessions.valid(b)).toBe(true);
    for (const id of [undefined, '', 'forged', `${b}x`]) expect(sessions.valid(id)).toBe(false);
  });

  it('beyond the cap a new login ends the oldest session, and expired ones are swept first', async () => {
    const clock = createManualClock();
    const sessions = createSessionStore(clock, { ttlMs: HOUR, maxSessions: 3 });
    const ids = [sessions.create().id, sessions.create().id, sessions.create().id];
    const fourth = sessions.create().id;
    expect(ids.map((id) => sessions.valid(id))).toEqual([false, true, true]);
    expect(sessions.valid(fourth)).toBe(true);
    await clock.advance(HOUR);
    sessions.create();
    expect(sessions.size).toBe(1);
  });
});

describe('isAdminToken', () => {
  it('accepts the configured token only, and nothing when none is configured', () => {
    expect(isAdminToken('a-long-admin-token-0123', 'a-long-admin-token-0123')).toBe(true);
    expect(isAdminToken('a-long-admin-token-0124', 'a-long-admin-token-0123')).toBe(false);
    expect(isAdminToken('', undefined)).toBe(false);
    expect(isAdminToken('', '')).toBe(false);
    expect(isAdminToken('anything', undefined)).toBe(false);
  });
});
