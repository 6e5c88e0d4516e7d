/**
 * The bus publisher against an in-process broker that goes away: a publish still waiting for its
 * PUBACK settles when the publisher stops, so nothing waiting on it (a forwarder's round, a
 * component's stop) waits for ever.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { connectPublisher } from '../../../../services/shared/bus/publisher.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { eventually } from '../../../helpers/eventually.js';

describe('bus publisher', () => {
  it('rejects a publish still waiting for the broker when it stops', async () => {
    const aedes = await Aedes.createBroker();
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      aedes.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const publisher = connectPublisher({ url, protocolVersion: 4, sharedSubscriptions: false }, 'publisher-test', silentLogger());
    await eventually(() => publisher.connected(), { what: 'the publisher connected' });
    await publisher.publish('fieldhook/v1/test', 'taken');

    // The broker goes away: the next publish waits for a PUBACK that will not come.
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await eventually(() => !publisher.connected(), { what: 'the publisher disconnected' });
    const waiting = publisher.publish('fieldhook/v1/test', 'not taken');
    await publisher.stop();
    await expect(waiting).rejects.toThrow(/stopped before the broker took the message/);
  });
});
