/**
 * Sessions of the status page, held server-side: the cookie carries only a random id, so logging
 * out or expiring ends a session for real, and a stolen cookie dies with it. Memory is enough: a
 * restart only means logging in again.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../shared/clock.js';

export interface SessionOptions {
  /** A session ends this long after login, ms. Default 12 h. */
  ttlMs: number;
  /** Sessions kept at most; a new login beyond it ends the oldest. Default 1000. */
  maxSessions: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { ttlMs: 12 * 3_600_000, maxSessions: 1_000 };

export interface SessionStore {
  /** A new session; returns its id (the cookie value) and how long it lives, ms. */
  create(): { id: string; ttlMs: number };
  /** True while the id names a live session. */
  valid(id: string | undefined): boolean;
  end(id: string | undefined): void;
  readonly size: number;
}

export function createSessionStore(clock: Clock, options: SessionOptions = DEFAULT_SESSION_OPTIONS): SessionStore {
  // Keyed by the id's digest, so the map holds nothing a heap dump could replay as a cookie.
  const sessions = new Map<string, number>();
  const keyOf = (id: string) => createHash('sha256').update(id).digest('base64url');
  const sweep = (now: number) => {
    for (const [key, expiresAt] of sessions) if (expiresAt <= now) sessions.delete(key);
  };
  return {
    create() {
      const now = clock.now();
      sweep(now);
      // Insertion order is age order: the first key is the oldest session.
      while (sessions.size >= options.maxSessions) sessions.delete(sessions.keys().next().value!);
      const id = randomBytes(32).toString('base64url');
      sessions.set(keyOf(id), now + options.ttlMs);
      return { id, ttlMs: options.ttlMs };
    },
    valid(id) {
      if (!id) return false;
      const key = keyOf(id);
      const expiresAt = sessions.get(key);
      if (expiresAt === undefined) return false;
      if (expiresAt > clock.now()) return true;
      sessions.delete(key);
      return false;
    },
    end(id) {
      if (id) sessions.delete(keyOf(id));
    },
    get size() {
      return sessions.size;
    },
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A comparison with the admin token that takes the same time whatever is sent. False when none is configured. */
export function isAdminToken(given: string, adminToken: string | undefined): boolean {
  return adminToken !== undefined && adminToken !== '' && timingSafeEqual(digest(given), digest(adminToken));
}
