/**
 * The soak's short form (`npm run bench:soak` is the long one, with latencies): `fieldhook start`
 * as its own process under hostile HTTP and MQTT traffic next to a well-behaved client, for a few
 * seconds. Only what does not depend on timing is asserted: the process survives, nobody gets a 5xx
 * other than the connection caps' 503, every acknowledged well-behaved reading reaches InfluxDB (and
 * nothing more: no attacker wrote as the well-behaved devices), and memory growth stays bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GOOD, rssOverSoak, runSoak, startSoakTarget, type SoakResult, type SoakTarget } from '../../../bench/soak-scenario.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const SOAK_SECONDS = 12;
/** RSS growth over the soak the process may show, MB: a resource bound, not a timing one. */
const MAX_RSS_GROWTH_MB = 150;

describe(`soak, short form: hostile traffic next to a well-behaved client (InfluxDB ${influx.kind})`, () => {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-soak-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the process up, answers no unexpected 5xx, stores every acknowledged reading and bounds its memory', async () => {
    const database = `soak_${process.pid}`;
    await influx.createDatabase(database);
    const target: SoakTarget = await startSoakTarget({
      command: [process.execPath, '--max-semi-space-size=8', '--max-old-space-size=160', '--import', 'tsx', 'services/cli/main.ts', 'start'],
      dataDir: join(root, 'data'),
      influxUrl: influx.url,
      database,
      influxHeaders: influx.headers,
      // Short request deadlines, so that the slow clients get their 408 within the short soak.
      settings: { ...influx.settings(database), HTTP_REQUEST_TIMEOUT_MS: '4000', HTTP_HEADERS_TIMEOUT_MS: '2000' },
    });
    let result: SoakResult;
    try {
      result = await runSoak(target, { quietSeconds: 2, soakSeconds: SOAK_SECONDS, rate: 50 });

      // No crash: the process is the one started, and it answers.
      expect(target.exited()).toBeUndefined();
      expect(await target.healthz()).toBe(200);
      expect(target.problems()).toEqual([]);
      // No 5xx but the connection caps' 503 (the floods go past the caps on purpose).
      expect(result.fiveXX.unexpected).toEqual([]);
      expect(result.fiveXX.connectionCap).toBeGreaterThan(0);
      // The well-behaved client: every reading acknowledged, the MQTT session never taken over.
      for (const phase of [result.quiet.http, result.quiet.mqtt, result.soak.http, result.soak.mqtt]) {
        expect(phase.failed).toEqual({});
        expect(phase.acked).toBe(phase.sent);
      }
      expect(result.mqttDisconnects).toBe(0);
      // Every acknowledged reading in InfluxDB, and not one more.
      const stored = await eventually(
        async () => {
          const counts = { http: await target.stored(GOOD.http), mqtt: await target.stored(GOOD.mqtt) };
          return counts.http >= result.acked.http && counts.mqtt >= result.acked.mqtt ? counts : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'every acknowledged well-behaved reading in InfluxDB' },
      );
      expect(stored).toEqual(result.acked);
      // Every kind of attack ran and was answered; none got in.
      const kinds = Object.keys(result.hostile);
      expect(kinds.length).toBeGreaterThanOrEqual(20);
      for (const [kind, outcomes] of Object.entries(result.hostile)) {
        for (const outcome of Object.keys(outcomes)) expect(`${kind}: ${outcome}`).not.toMatch(/\(!\)|attacker failed/);
      }
      // Memory: the growth over the soak is bounded (sampled after the drain above).
      await eventually(() => target.rss.length > 0 && target.rss.at(-1)!.atMs > result.soakEndMs, { what: 'an RSS sample after the soak' });
      const rss = rssOverSoak(target, result);
      expect(rss.end - rss.soakStart).toBeLessThan(MAX_RSS_GROWTH_MB);
      expect(await target.healthz()).toBe(200);
      expect(target.exited()).toBeUndefined();
    } finally {
      await target.stop();
    }
  }, 120_000);
});
