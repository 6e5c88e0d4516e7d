/**
 * Address ranges as settings and the registry name them: CIDR ranges (`10.0.0.0/8`,
 * `2001:db8::/32`) or single addresses (`192.0.2.7`, taken as /32 or /128).
 */
import ipaddr from 'ipaddr.js';

export type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A network as written, parsed; undefined when it is neither a CIDR range nor an address. */
export function parseNetwork(text: string): Network | undefined {
  try {
    return ipaddr.parseCIDR(text);
  } catch {
    if (!ipaddr.isValid(text)) return undefined;
    const address = ipaddr.parse(text);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  }
}
