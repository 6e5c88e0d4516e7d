import { describe, expect, it } from 'vitest';
import { inNetworks } from '../../../services/ingestor/auth.js';
import { checkNetworks } from '../../../services/registry/networks.js';

describe('source networks', () => {
  it.each([
    ['10.1.2.3', ['10.0.0.0/8'], true],
    ['11.1.2.3', ['10.0.0.0/8'], false],
    ['::ffff:10.1.2.3', ['10.0.0.0/8'], true],
    ['10.1.2.3', ['::ffff:10.0.0.0/104'], true],
    ['fd00::1', ['fd00::/8'], true],
    ['fd00::1', ['10.0.0.0/8'], false],
    ['not-an-ip', ['0.0.0.0/0'], false],
    // A single address is its own network; an entry that is not a network (stored before they were checked) matches nothing.
    ['127.0.0.1', ['127.0.0.1'], true],
    ['127.0.0.2', ['127.0.0.1'], false],
    ['::1', ['::1'], true],
    ['10.1.2.3', ['notacidr', '300.0.0.0/8', '10.0.0.0/33', '10.0.0.0/8'], true],
    ['10.1.2.3', ['notacidr'], false],
  ])('%s in %j → %s', (ip, cidrs, expected) => {
    expect(inNetworks(ip, cidrs)).toBe(expected);
  });
});

describe('allowed networks as stored', () => {
  it('take CIDR ranges and single addresses, and refuse anything else naming the entry', () => {
    expect(() => checkNetworks(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1'], 'networks')).not.toThrow();
    for (const [bad, at] of [[['notacidr'], 0], [['10.0.0.0/8', '300.0.0.0/8'], 1], [['10.0.0.0/33'], 0], [[''], 0]] as const) {
      expect(() => checkNetworks(bad, 'networks')).toThrow(expect.objectContaining({ code: 'FH_ERR_DEVICE_NETWORK_INVALID', details: { field: `networks[${at}]` } }));
    }
  });
});
