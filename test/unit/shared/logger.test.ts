import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { SECRET_SETTINGS, createLogger } from '../../../services/shared/logger.js';
import { secretSettingKeys } from '../../../services/shared/secrets.js';

describe('logger', () => {
  it('never writes secrets: authorization headers, signatures, tokens, passwords', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info' }, sink);
    logger.info({
      req: { headers: { authorization: 'Bearer whsec_TOPSECRET1', 'webhook-signature': 'v1,TOPSECRET2' } },
      device: { id: 'n-1', secret: 'whsec_TOPSECRET3' },
      influx: { token: 'TOPSECRET4' },
      password: 'TOPSECRET5',
    }, 'hello');
    const out = lines.join('');
    expect(out).toContain('"id":"n-1"');
    expect(out).toContain('[redacted]');
    expect(out).not.toMatch(/TOPSECRET/);
  });
});

describe('logger: settings and URLs', () => {
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, logger: createLogger({ level: 'info' }, sink) };
  };

  it('knows every setting the schemas declare secret', () => {
    expect([...SECRET_SETTINGS].sort()).toEqual(secretSettingKeys(PIPELINE_CONFIG).sort());
  });

  it('never writes a secret setting, at the top or inside a logged settings object', () => {
    const { lines, logger } = capture();
    const settings = Object.fromEntries(SECRET_SETTINGS.map((key, i) => [key, `TOPSECRET${i}`]));
    logger.info({ config: { ...settings, WEBHOOK_SECRET_ROTATION_OVERLAP_MS: 3_600_000 }, ...settings }, 'settings');
    const out = lines.join('');
    expect(out).not.toMatch(/TOPSECRET/);
    expect(out).toContain('"WEBHOOK_SECRET_ROTATION_OVERLAP_MS":3600000');
  });

  it('masks credentials of URLs in fields, nested fields, errors and messages', () => {
    const { lines, logger } = capture();
    const fields = { url: 'mqtt://ingest:TOPSECRET1@broker:1883', nested: { list: ['http://influx:8086?p=TOPSECRET2'] } };
    logger.info(fields, 'connecting to mqtt://u:TOPSECRET4@broker');
    logger.error({ err: new Error('connect to mqtt://u:TOPSECRET5@broker refused') }, 'failed');
    const out = lines.join('');
    expect(out).not.toMatch(/TOPSECRET/);
    expect(out).toContain('mqtt://ingest:***@broker:1883');
    expect(out).toContain('connecting to mqtt://u:***@broker');
    // The caller's object is not changed.
    expect(fields.url).toBe('mqtt://ingest:TOPSECRET1@broker:1883');
    expect(fields.nested.list[0]).toBe('http://influx:8086?p=TOPSECRET2');
  });

  it('leaves URLs without credentials as they are', () => {
    const { lines, logger } = capture();
    logger.info({ httpUrl: 'http://127.0.0.1:8080', influxUrl: 'http://127.0.0.1:8086' }, 'fieldhook is running');
    expect(lines.join('')).toContain('"httpUrl":"http://127.0.0.1:8080","influxUrl":"http://127.0.0.1:8086"');
  });
});
