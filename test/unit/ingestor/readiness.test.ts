import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ingestorReadiness } from '../../../services/ingestor/readiness.js';

describe('ingestor readiness', () => {
  it('says an InfluxDB never reached is not being written to, before the first write has failed', async () => {
    // A port nothing answers on: taken, then let go.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const [influx] = ingestorReadiness({
      influxUrl: `http://127.0.0.1:${port}`,
      writer: { healthy: () => true, lastSuccessAt: () => 0, refusal: () => undefined },
      spool: { usage: async () => ({}) as never },
      ingest: { pressure: () => 'ok' },
      mqtt: () => ({ ok: true, detail: {} }),
    });
    expect(await influx!.check()).toEqual({ ok: false, detail: { writing: false, lastWriteAt: null } });
  });
});
