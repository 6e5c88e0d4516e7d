import { describe, expect, it } from 'vitest';
import { SESSION_EXPIRY_S, connectSubscriber, sessionOptions, type BusConnection } from '../../../../services/shared/bus/index.js';
import { silentLogger } from '../../../../services/shared/logger.js';

const v5: BusConnection = { url: 'mqtt://127.0.0.1:1', protocolVersion: 5, sharedSubscriptions: true };
const v4: BusConnection = { ...v5, protocolVersion: 4 };

describe('bus session options', () => {
  it('announce maximumPacketSize on CONNECT on MQTT 5, with the session expiry', () => {
    expect(sessionOptions(v5, 'c', { maximumPacketSize: 1_114_112 }).properties).toEqual({ sessionExpiryInterval: SESSION_EXPIRY_S, maximumPacketSize: 1_114_112 });
    expect(sessionOptions(v5, 'c').properties).toEqual({ sessionExpiryInterval: SESSION_EXPIRY_S });
  });

  it('have no properties on 3.1.1, which cannot carry them', () => {
    expect(sessionOptions(v4, 'c', { maximumPacketSize: 1_114_112 }).properties).toBeUndefined();
  });

  it('reach the subscriber’s client (built, never started: no socket)', () => {
    const subscriber = connectSubscriber(v5, { clientId: 'c', filter: 't/#', group: 'g', maximumPacketSize: 2_000 }, () => {}, silentLogger());
    expect(subscriber.client.options.properties?.maximumPacketSize).toBe(2_000);
  });
});
