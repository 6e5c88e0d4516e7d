import { Errors } from './error-catalog.js';

/**
 * What a failed `listen` means to the person starting fieldhook: the address, and the setting to
 * change (FH_ERR_CONFIG_PORT_UNAVAILABLE), instead of a bare `EADDRINUSE`. Other errors pass through.
 */
export function listenError(err: unknown, host: string, port: number, settings: { port: string; host: string }): unknown {
  const setting = settings.port;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why =
    code === 'EADDRINUSE' ? `${at} is already in use by another program: stop it, or set ${setting} to a free port`
    : code === 'EACCES' ? `${at} may not be opened by this user (ports below 1024 need privileges): set ${setting} to a port above 1023`
    : code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine: set ${settings.host} to one of its addresses`
    : undefined;
  return why === undefined ? err : Errors.configPortUnavailable(why, { setting, port, cause: code });
}
