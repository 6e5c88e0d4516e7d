import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../services/shared/logger.js';

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
