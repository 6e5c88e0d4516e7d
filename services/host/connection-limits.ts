import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Errors } from '../shared/error-catalog.js';
import type { FieldhookError } from '../shared/errors.js';
import { rawProblemResponse } from '../shared/http-errors.js';
import type { HttpServerOptions } from './http-config.js';

/**
 * Cap the connections the server holds, in all and per source address. A connection over a cap
 * is answered at once with a 503 problem+json (`Retry-After`) and closed: it is kept from Node's
 * HTTP layer altogether (the `connection` event is where Node attaches its parser), so whatever
 * request it carries is read only to be discarded, never parsed nor handled. With TLS a connection
 * is counted once its handshake completes (`secureConnection`; Node bounds the handshake itself).
 */
export function limitConnections(server: Server, limits: HttpServerOptions, secure: boolean): void {
  const event = secure ? 'secureConnection' : 'connection';
  let open = 0;
  const perAddress = new Map<string, number>();

  const admit = (socket: Socket): boolean => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = perAddress.get(address) ?? 0;
    if (open >= limits.maxConnections || fromAddress >= limits.maxConnectionsPerAddress) {
      const which = open >= limits.maxConnections ? 'the server' : 'this address';
      refuse(socket, Errors.httpTooManyConnections(`Too many open connections to ${which}: retry later`, { retryAfterS: limits.connectionRetryAfterS }));
      return false;
    }
    open++;
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    return true;
  };

  // Node's HTTP server listens to this event to take the socket over; a refused socket must not
  // reach it. Injecting connections through this event is what Node documents for it.
  const emit = server.emit;
  server.emit = function (this: Server, name: string | symbol, ...args: unknown[]): boolean {
    if (name === event && !admit(args[0] as Socket)) return true;
    return Reflect.apply(emit, this, [name, ...args]) as boolean;
  } as Server['emit'];
}

/** Answer `error` on a socket no HTTP parser reads, discard what the client sends, and close. */
function refuse(socket: Socket, error: FieldhookError): void {
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.on('end', () => socket.destroy());
  const retryAfterS = error.details?.retryAfterS;
  socket.end(rawProblemResponse(error, typeof retryAfterS === 'number' ? { 'Retry-After': String(retryAfterS) } : {}));
  // A client that keeps its side open does not keep the socket.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
