/**
 * Guessing the admin token through the login form is slowed down per source address: after a few
 * refused logins within a window, that address is refused without a look at the token until the
 * window ends. Only refusals count, so a person who types the token right is never held up.
 */
import type { Clock } from '../shared/clock.js';

export interface LoginThrottleOptions {
  /** Refused logins an address may have within `windowMs`. Default 10. */
  maxFailures: number;
  /** ms. Default 60 000. */
  windowMs: number;
  /** Addresses remembered at most (the oldest is forgotten first). Default 10 000. */
  maxAddresses: number;
}

export const DEFAULT_LOGIN_THROTTLE_OPTIONS: LoginThrottleOptions = { maxFailures: 10, windowMs: 60_000, maxAddresses: 10_000 };

export interface LoginThrottle {
  /** Seconds until this address may try again, or 0 when it may now. */
  retryAfterS(address: string): number;
  /** A refused login from this address. */
  failed(address: string): void;
}

export function createLoginThrottle(clock: Clock, options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE_OPTIONS): LoginThrottle {
  // Per address: failures in the current window and when it started. Insertion order is age order.
  const windows = new Map<string, { since: number; failures: number }>();
  const current = (address: string) => {
    const w = windows.get(address);
    if (w && clock.now() - w.since < options.windowMs) return w;
    windows.delete(address);
    return undefined;
  };
  return {
    retryAfterS(address) {
      const w = current(address);
      if (!w || w.failures < options.maxFailures) return 0;
      return Math.max(1, Math.ceil((w.since + options.windowMs - clock.now()) / 1000));
    },
    failed(address) {
      const w = current(address);
      if (w) {
        w.failures++;
        return;
      }
      while (windows.size >= options.maxAddresses) windows.delete(windows.keys().next().value!);
      windows.set(address, { since: clock.now(), failures: 1 });
    },
  };
}
