import { describe, expect, it } from 'vitest';
import { inNetworks } from '../../../services/ingestor/auth.js';

describe('source networks', () => {
  it.each([
    ['10.1.2.3', ['10.0.0.0/8'], true],
    ['11.1.2.3', ['10.0.0.0/8'], false],
    ['::ffff:10.1.2.3', ['10.0.0.0/8'], true],
    ['10.1.2.3', ['::ffff:10.0.0.0/104'], true],
    ['fd00::1', ['fd00::/8'], true],
    ['fd00::1', ['10.0.0.0/8'], false],
    ['not-an-ip', ['0.0.0.0/0'], false],
  ])('%s in %j → %s', (ip, cidrs, expected) => {
    expect(inNetworks(ip, cidrs)).toBe(expected);
  });
});
