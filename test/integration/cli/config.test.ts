import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('fieldhook config show (command line)', () => {
  it('masks secret settings and credentials inside URLs, and shows durations and other plain values', async () => {
    const settings = {
      MQTT_URL: 'mqtt://ingest:mqtt-url-pw@broker.example:1883',
      MQTT_USERNAME: 'ingest',
      MQTT_PASSWORD: 'mqtt-password-value',
      INFLUX_URL: 'https://reader:influx-url-pw@influx.example:8086/?token=influx-query-token',
      INFLUX_TOKEN: 'influx-token-value',
      ADMIN_TOKEN: 'admin-token-value-0123456789',
      DISPATCH_MQTT_URL: 'mqtts://dispatch:dispatch-url-pw@broker.example',
      DISPATCH_MQTT_PASSWORD: 'dispatch-password-value',
      WEBHOOK_SECRET_ROTATION_OVERLAP_MS: '7200000',
      TLS_KEY_FILE: '/etc/fieldhook/tls/key.pem',
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries(settings)) env[`FIELDHOOK_${key}`] = value;
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'config', 'show'], { env });

    expect(stdout).not.toMatch(/-pw|password-value|token-value|influx-query-token/);
    expect(JSON.parse(stdout)).toMatchObject({
      MQTT_URL: 'mqtt://ingest:***@broker.example:1883',
      MQTT_USERNAME: 'ingest',
      MQTT_PASSWORD: '[redacted]',
      INFLUX_URL: 'https://reader:***@influx.example:8086/?token=***',
      INFLUX_TOKEN: '[redacted]',
      ADMIN_TOKEN: '[redacted]',
      DISPATCH_MQTT_URL: 'mqtts://dispatch:***@broker.example',
      DISPATCH_MQTT_PASSWORD: '[redacted]',
      WEBHOOK_SECRET_ROTATION_OVERLAP_MS: 7_200_000,
      TLS_KEY_FILE: '/etc/fieldhook/tls/key.pem',
    });
  }, 30_000);
});
