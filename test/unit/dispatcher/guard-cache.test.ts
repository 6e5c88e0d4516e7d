import { describe, expect, it } from 'vitest';
import { createGuardCache } from '../../../services/dispatcher/guard-cache.js';
import { silentLogger } from '../../../services/shared/logger.js';

describe('guard cache', () => {
  const options = { allowCidrs: { lan: ['192.168.10.0/24'] }, httpsOnly: false, connections: 4 };

  it('shares one guard and agent between subscriptions with the same policy', async () => {
    const cache = createGuardCache(options, silentLogger());
    // Two subscriptions of one farm, and two that see every farm: two policies, two guards.
    expect(cache.guardFor(['other'])).toBe(cache.guardFor(['other']));
    const a = cache.guardFor([]);
    expect(cache.guardFor([])).toBe(a);
    expect(cache.guardFor(['other'])).not.toBe(a);
    expect(a.agent).toBeDefined();
    await cache.close();
  });

  it('gives a farm with an allow-list its own guard, admitting its LAN only', async () => {
    const cache = createGuardCache(options, silentLogger());
    const lan = cache.guardFor(['lan']);
    const global = cache.guardFor([]);
    expect(lan).not.toBe(global);
    expect(lan.guard.check('192.168.10.7').allowed).toBe(true);
    expect(global.guard.check('192.168.10.7').allowed).toBe(false);
    expect(lan.guard.check('10.0.0.1').allowed).toBe(false);
    await cache.close();
  });

  it('builds no agents when a transport of its own does the I/O', () => {
    const cache = createGuardCache({ ...options, withoutAgents: true }, silentLogger());
    expect(cache.guardFor([]).agent).toBeUndefined();
  });
});
