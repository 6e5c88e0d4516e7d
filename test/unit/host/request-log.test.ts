import { describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../services/host/http-app.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { captureLogger } from '../../helpers/capture-logger.js';

describe('request log', () => {
  it('logs no line per request at info, and one throughput summary per minute by status class', async () => {
    const clock = createManualClock(0);
    const { lines, logger } = captureLogger('info');
    const app = buildHostApp([], { logger, requestLog: { clock } });
    await app.ready();
    try {
      for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/nowhere' })).statusCode).toBe(404);
      expect(lines.filter((l) => l.msg === 'request')).toEqual([]);
      expect(lines.filter((l) => typeof l.requests === 'number')).toEqual([]);

      await clock.advance(60_000);
      const summaries = lines.filter((l) => typeof l.requests === 'number');
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({ level: 30, requests: 4, byStatus: { '2xx': 3, '4xx': 1 }, intervalS: 60 });

      // A quiet minute says nothing.
      await clock.advance(60_000);
      expect(lines.filter((l) => typeof l.requests === 'number')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('logs each request at debug with its method, URL, status and time', async () => {
    const { lines, logger } = captureLogger('debug');
    const app = buildHostApp([], { logger, requestLog: { clock: createManualClock(0) } });
    try {
      await app.inject({ url: '/healthz' });
      const line = lines.find((l) => l.msg === 'request');
      expect(line).toMatchObject({ level: 20, method: 'GET', url: '/healthz', statusCode: 200 });
      expect(typeof line?.responseTimeMs).toBe('number');
    } finally {
      await app.close();
    }
  });

  it('masks query values at debug: a device\'s password in `/write?u=…&p=…` never reaches the log', async () => {
    const { lines, logger } = captureLogger('debug');
    const app = buildHostApp([], { logger, requestLog: { clock: createManualClock(0) } });
    try {
      await app.inject({ url: '/write?db=farm&u=n1&p=s3cret-device-password' });
      await app.inject({ url: '/healthz?token=t0k3n' });
      const logged = lines.filter((l) => l.msg === 'request');
      expect(logged.map((l) => l.url)).toEqual(['/write?db=***&u=***&p=***', '/healthz?token=***']);
      expect(logged[1]).toMatchObject({ route: '/healthz' });
      expect(JSON.stringify(lines)).not.toMatch(/s3cret|t0k3n/);
    } finally {
      await app.close();
    }
  });
});
