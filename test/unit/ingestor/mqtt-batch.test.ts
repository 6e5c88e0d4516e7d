import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createIngestService } from '../../../services/ingestor/ingest.js';
import { createIngestMetrics } from '../../../services/ingestor/metrics.js';
import { createMqttBatcher } from '../../../services/ingestor/mqtt-batch.js';
import type { MqttRefusal } from '../../../services/ingestor/mqtt-message.js';
import { createSqliteSpool } from '../../../services/ingestor/spool/sqlite-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER, type Spool } from '../../../services/ingestor/spool/spool.js';
import type { DeviceRepository, DeviceWithSecret } from '../../../services/registry/device.js';
import { buildQuantityTable } from '../../../services/shared/quantities.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

const NOW = Date.parse('2026-07-06T10:00:00Z');
const device: DeviceWithSecret = { id: 'n-1', farm: 'f', field: 'a', kind: 'device', enabled: true, allowedNetworks: [], createdAt: '', secret: 'whsec_x' };
const payload = (body: unknown) => Buffer.from(JSON.stringify(body));
const good = (i: number) => payload({ id: `m-${i}`, ts: NOW - 1000 + i, values: { soil_moisture: 0.2 } });

function setup(failAppends = false) {
  const inner = createSqliteSpool({ path: ':memory:', consumers: [INFLUX_CONSUMER, BUS_CONSUMER], now: () => NOW });
  const appends: number[] = [];
  const spool: Spool = {
    ...inner,
    append: (request) => {
      appends.push(request.readings.length);
      return failAppends ? Promise.reject(new Error('disk gone')) : inner.append(request);
    },
  };
  const metrics = createIngestMetrics(new Registry());
  const ingest = createIngestService({
    spool,
    devices: {} as DeviceRepository,
    metrics,
    logger: silentLogger(),
    rules: { quantities: buildQuantityTable(), maxFutureMs: 300_000, maxAgeMs: 86_400_000 },
    limits: { highWaterBytes: 1e12, budgetBytes: 1e12, retryAfterS: 1 },
    now: () => NOW,
  });
  const batcher = Object.assign(createMqttBatcher({ ingest, metrics, limits: { maxPayloadBytes: 1_000, maxBatchItems: 3 } }), { ingest, metrics });
  return { batcher, appends, spool: inner };
}

/** Submit payloads in one turn; resolves with each settlement in the order they came. */
function submitAll(batcher: ReturnType<typeof createMqttBatcher>, payloads: Buffer[]) {
  const settled: { index: number; err?: Error; refused: MqttRefusal[] }[] = [];
  return new Promise<typeof settled>((resolve) => {
    payloads.forEach((p, index) =>
      batcher.submit(device, p, (err, refused) => {
        settled.push({ index, ...(err ? { err } : {}), refused });
        if (settled.length === payloads.length) resolve(settled);
      }),
    );
  });
}

describe('MQTT batches', () => {
  it('appends the messages of one turn together and settles them in the order they came, refusals included', async () => {
    const { batcher, appends, spool } = setup();
    const settled = await submitAll(batcher, [
      good(1),
      Buffer.from('not json'),
      good(2),
      payload([{ ts: NOW, values: { soil_moisture: 0.2 } }, { ts: NOW, values: { soil_moisture: 0.3 } }, { ts: NOW, values: {} }, { ts: NOW, values: {} }]),
      payload({ ts: NOW, values: { soil_moisture: 9 } }),
      good(1),
      Buffer.alloc(2_000, 0x20),
      payload([]),
    ]);
    expect(settled.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(appends).toEqual([3]);
    expect(settled.map((s) => s.refused.map((r) => r.code))).toEqual([
      [],
      ['FH_ERR_HTTP_MALFORMED_JSON'],
      [],
      ['FH_ERR_INGEST_BATCH_TOO_LARGE'],
      ['FH_ERR_READING_VALUE_OUT_OF_RANGE'],
      [],
      ['FH_ERR_INGEST_PAYLOAD_TOO_LARGE'],
      ['FH_ERR_INGEST_EMPTY_BATCH'],
    ]);
    // One record for the whole batch; the repeated reading was a duplicate within it.
    const records = await spool.read(INFLUX_CONSUMER, 100);
    expect(records).toHaveLength(1);
    expect(records[0]!.count).toBe(2);
    expect(batcher.pending()).toBe(0);
  });

  it('settles a batch of the next turn on its own commit', async () => {
    const { batcher, appends } = setup();
    await submitAll(batcher, [good(1), good(2)]);
    await submitAll(batcher, [good(3)]);
    expect(appends).toEqual([2, 1]);
  });

  it('settles every message of a batch with the error when the append fails: none may be acknowledged', async () => {
    const { batcher } = setup(true);
    const settled = await submitAll(batcher, [good(1), Buffer.from('not json'), good(2)]);
    expect(settled.map((s) => s.err?.message)).toEqual(['disk gone', 'disk gone', 'disk gone']);
  });

  it('settles the rest of a batch when one callback throws, and says so in the log', async () => {
    const { batcher } = setup();
    const logged: string[] = [];
    const logger = { ...silentLogger(), error: (_obj: unknown, msg: string) => void logged.push(msg) } as unknown as ReturnType<typeof silentLogger>;
    const guarded = createMqttBatcher({ ingest: batcher.ingest, metrics: batcher.metrics, limits: { maxPayloadBytes: 1_000, maxBatchItems: 3 }, logger });
    const settled: number[] = [];
    await new Promise<void>((resolve) => {
      guarded.submit(device, good(1), () => {
        settled.push(1);
        throw new Error('a callback bug');
      });
      guarded.submit(device, good(2), () => {
        settled.push(2);
        resolve();
      });
    });
    expect(settled).toEqual([1, 2]);
    expect(logged).toEqual([expect.stringContaining('settle callback failed')]);
    await eventually(() => expect(guarded.pending()).toBe(0));
  });
});
