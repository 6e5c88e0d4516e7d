/**
 * The networks a farm or a device may send from: CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`) or
 * single addresses (`192.0.2.7`, taken as /32 or /128). Checked when stored, so a typo is refused
 * with FH_ERR_DEVICE_NETWORK_INVALID then, instead of breaking every later login of the farm.
 */
import { Errors } from '../shared/error-catalog.js';
import { parseNetwork } from '../shared/networks.js';

/** Throws FH_ERR_DEVICE_NETWORK_INVALID naming the first entry that is not a network. */
export function checkNetworks(networks: readonly string[], field: string): void {
  for (const [i, text] of networks.entries()) {
    if (typeof text !== 'string' || parseNetwork(text) === undefined) {
      throw Errors.deviceNetworkInvalid(`${JSON.stringify(String(text).slice(0, 64))} is neither a CIDR range (10.0.0.0/8) nor an address`, { field: `${field}[${i}]` });
    }
  }
}
