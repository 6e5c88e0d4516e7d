import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { loadConfig } from '../../../services/shared/config.js';
import { isSecretSchema, redactSettings, redactUrl, redactUrlsInText, secret, secretSettingKeys } from '../../../services/shared/secrets.js';

describe('secrets', () => {
  it('redactUrl masks the password of the userinfo and keeps the user', () => {
    expect(redactUrl('mqtt://user:pass@broker:1883')).toBe('mqtt://user:***@broker:1883');
    expect(redactUrl('mqtts://ingest:p%40ss@broker.example/')).toBe('mqtts://ingest:***@broker.example/');
    // An unescaped @ in the password: the last @ ends the userinfo, as URL parsers read it.
    expect(redactUrl('mqtt://user:p@ss@host')).toBe('mqtt://user:***@host');
  });

  it('redactUrl masks a userinfo without a password as a whole (often a token) and every query value', () => {
    expect(redactUrl('https://ghp_abcdef@influx.example')).toBe('https://***@influx.example');
    expect(redactUrl('http://influx:8086?u=admin&p=hunter2&db=x&flag')).toBe('http://influx:8086?u=***&p=***&db=***&flag');
    expect(redactUrl('https://h/path?token=abc#frag')).toBe('https://h/path?token=***#frag');
  });

  it('redactUrl returns anything without credentials, and anything that is not a URL, unchanged', () => {
    for (const plain of ['http://influx:8086', 'mqtt://broker', 'https://h/a@b', '.fieldhook', 'user:pass', '86400000', '']) {
      expect(redactUrl(plain)).toBe(plain);
    }
  });

  it('redactUrl and redactUrlsInText mask the query values of a request target (the 1.x write API takes `p=`)', () => {
    expect(redactUrl('/write?db=a&u=n1&p=s3cret')).toBe('/write?db=***&u=***&p=***');
    expect(redactUrlsInText('/write?db=a&u=n1&p=s3cret')).toBe('/write?db=***&u=***&p=***');
    expect(redactUrlsInText('/query?q=SELECT&token=abc#x')).toBe('/query?q=***&token=***#x');
    for (const plain of ['/healthz', '/v1/readings', '/var/lib/fieldhook']) expect(redactUrlsInText(plain)).toBe(plain);
  });

  it('redactUrlsInText masks URLs inside a sentence', () => {
    expect(redactUrlsInText('connecting to mqtt://u:secret1@broker:1883 and http://i:8086?token=t0k (retry)')).toBe(
      'connecting to mqtt://u:***@broker:1883 and http://i:8086?token=*** (retry)',
    );
  });

  it('secret() marks the schema it returns, not others', () => {
    const token = secret(z.string().optional().describe('a token'));
    expect(isSecretSchema(token)).toBe(true);
    expect(isSecretSchema(z.string())).toBe(false);
    expect(token.description).toBe('a token');
  });

  it('the schemas declare the credentials secret, and only them', () => {
    expect(secretSettingKeys(PIPELINE_CONFIG).sort()).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'DISPATCH_MQTT_PASSWORD',
      'INFLUX_TOKEN',
      'MQTT_PASSWORD',
      'SLACK_SIGNING_SECRET',
      'SMTP_URL',
      'TELEGRAM_BOT_TOKEN',
      'TELEGRAM_SECRET_TOKEN',
    ]);
  });

  it('a setting whose name looks like a credential is declared secret, or listed here as not one', () => {
    // Names are only a hint: a new TOKEN/PASSWORD/SECRET/KEY setting must decide, in its schema.
    const notSecret = new Set(['WEBHOOK_SECRET_ROTATION_OVERLAP_MS', 'TLS_KEY_FILE']);
    const undecided = Object.keys(PIPELINE_CONFIG).filter(
      (key) => /TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL/.test(key) && !notSecret.has(key) && !isSecretSchema(PIPELINE_CONFIG[key as keyof typeof PIPELINE_CONFIG]),
    );
    expect(undecided).toEqual([]);
  });

  it('redactSettings masks secret settings and URL credentials, never durations or other plain values', () => {
    const env = {
      FIELDHOOK_MQTT_URL: 'mqtt://ingest:mqttpw@broker:1883',
      FIELDHOOK_MQTT_PASSWORD: 'mqtt-password-1',
      FIELDHOOK_INFLUX_URL: 'https://influx:cloudpw@eu.influx.example?token=qtok',
      FIELDHOOK_INFLUX_TOKEN: 'influx-token-1',
      FIELDHOOK_ADMIN_TOKEN: 'admin-token-0123456789',
      FIELDHOOK_DISPATCH_MQTT_URL: 'mqtt://disp:disppw@broker',
      FIELDHOOK_DISPATCH_MQTT_PASSWORD: 'dispatch-password-1',
      FIELDHOOK_WEBHOOK_SECRET_ROTATION_OVERLAP_MS: '3600000',
      FIELDHOOK_TLS_KEY_FILE: '/etc/fieldhook/key.pem',
    };
    const shown = redactSettings(PIPELINE_CONFIG, loadConfig(PIPELINE_CONFIG, env) as Record<string, unknown>);
    expect(shown).toMatchObject({
      MQTT_URL: 'mqtt://ingest:***@broker:1883',
      MQTT_PASSWORD: '[redacted]',
      INFLUX_URL: 'https://influx:***@eu.influx.example?token=***',
      INFLUX_TOKEN: '[redacted]',
      ADMIN_TOKEN: '[redacted]',
      DISPATCH_MQTT_URL: 'mqtt://disp:***@broker',
      DISPATCH_MQTT_PASSWORD: '[redacted]',
      WEBHOOK_SECRET_ROTATION_OVERLAP_MS: 3_600_000,
      TLS_KEY_FILE: '/etc/fieldhook/key.pem',
      DATA_DIR: '.fieldhook',
    });
    expect(JSON.stringify(shown)).not.toMatch(/mqttpw|cloudpw|qtok|disppw|-password-1|token-1|admin-token/);
  });

  it('redactSettings shows an unset secret as unset', () => {
    const shown = redactSettings(PIPELINE_CONFIG, loadConfig(PIPELINE_CONFIG, {}) as Record<string, unknown>);
    expect(shown.INFLUX_TOKEN).toBe('');
    expect(shown.ADMIN_TOKEN).toBeUndefined();
  });
});
