import mqtt, { type IConnackPacket } from 'mqtt';

/**
 * Whether the broker holds a session for `clientId`: an MQTT 5 connect without clean start says
 * so in its CONNACK. The probe asks for no expiry, so it leaves no session of its own behind (and
 * ends one it found).
 */
export async function sessionPresent(url: string, clientId: string): Promise<boolean> {
  const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 5, reconnectPeriod: 0, manualConnect: true, properties: { sessionExpiryInterval: 0 } });
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
    client.connect();
  });
  await client.endAsync();
  return connack.sessionPresent;
}
