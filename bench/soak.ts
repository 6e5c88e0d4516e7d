/**
 * `npm run bench:soak`: `fieldhook start` (built, as a separate process, the same V8 limits as
 * `npm start`) under hostile HTTP and MQTT traffic from several concurrent attackers for
 * SOAK_SECONDS (default 180), next to a well-behaved client sending one valid reading at a fixed
 * rate over HTTP and over MQTT, with a quiet run of that client first in the same invocation.
 * Real InfluxDB 1.8.10, the embedded MQTT broker; loopback only, bounded in count and time.
 * Prints Markdown tables; exits 1 when a goal that is not about timing is missed (a crash, a 5xx
 * other than the connection caps' 503, a lost acknowledged reading).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxDB } from '../infra/harness/influxdb.js';
import { waitUntil } from '../infra/harness/process.js';
import { GOOD, hostileRows, rssOverSoak, runSoak, startSoakTarget, type ClientPhase } from './soak-scenario.js';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const QUIET_SECONDS = Number(process.env.SOAK_QUIET_SECONDS ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 50);
/** SOAK_HEAVY_BODIES=0 leaves out the bodies that cost 50 – 250 ms of CPU each to refuse. */
const HEAVY_BODIES = process.env.SOAK_HEAVY_BODIES !== '0';
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-soak-'));
  const influx = await startInfluxDB({ dataDir: join(root, 'influxdb') });
  const target = await startSoakTarget({
    command: [process.execPath, '--max-semi-space-size=8', '--max-old-space-size=160', 'dist/services/cli/main.js', 'start'],
    dataDir: join(root, 'fieldhook'),
    influxUrl: influx.url,
    database: 'soak',
  });
  let failed = false;
  try {
    const result = await runSoak(target, { quietSeconds: QUIET_SECONDS, soakSeconds: SOAK_SECONDS, rate: RATE, heavyBodies: HEAVY_BODIES, log });

    log('waiting for every acknowledged well-behaved reading in InfluxDB…');
    const stored = { http: 0, mqtt: 0 };
    await waitUntil(
      async () => {
        stored.http = await target.stored(GOOD.http);
        stored.mqtt = await target.stored(GOOD.mqtt);
        return stored.http >= result.acked.http && stored.mqtt >= result.acked.mqtt;
      },
      60_000,
      'every acknowledged reading in InfluxDB',
    ).catch((err: Error) => log(err.message));
    // One more sample, after the drain: the end of the RSS series.
    target.sampleRss();
    const crashed = target.exited();
    const [healthz, readyz] = [await target.healthz(), await target.readyz()];
    const rss = rssOverSoak(target, result);

    const row = (what: string, quiet: ClientPhase, soak: ClientPhase) =>
      `| ${what} | ${quiet.latency.p50.toFixed(1)} | ${quiet.latency.p99.toFixed(1)} | ${soak.latency.p50.toFixed(1)} | ${soak.latency.p99.toFixed(1)} | ${(soak.latency.p99 / quiet.latency.p99).toFixed(2)}× | ${soak.latency.max.toFixed(0)} | ${quiet.acked + soak.acked} / ${quiet.sent + soak.sent} | ${soak.retried} | ${JSON.stringify({ ...quiet.failed, ...soak.failed })} |`;
    console.log(`\n### Soak: ${SOAK_SECONDS} s of hostile traffic, well-behaved client at ${RATE}/s on each of HTTP and MQTT (quiet run: ${QUIET_SECONDS} s)${HEAVY_BODIES ? '' : ', without the CPU-heavy bodies'}\n`);
    console.log('| well-behaved client | quiet p50 ms | quiet p99 ms | soak p50 ms | soak p99 ms | soak p99 / quiet p99 (goal ≤ 2×) | soak max ms | acknowledged / sent | retried (cap 503, 429) | not acknowledged |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    console.log(row('HTTP POST, 1 reading, Bearer', result.quiet.http, result.soak.http));
    console.log(row('MQTT QoS 1, 1 reading (PUBACK)', result.quiet.mqtt, result.soak.mqtt));

    const lost = { http: result.acked.http - stored.http, mqtt: result.acked.mqtt - stored.mqtt };
    console.log('\n| fieldhook process | result | goal |');
    console.log('|---|---|---|');
    console.log(`| RSS (sampled every second) | ${rss.atStart.toFixed(0)} MB at start, ${rss.soakStart.toFixed(0)} MB when the soak began, max ${rss.max.toFixed(0)} MB, ${rss.end.toFixed(0)} MB at the end (${target.rss.length} samples) | flat |`);
    console.log(`| crashes | ${crashed ? `1 (${JSON.stringify(crashed)})` : 0}; /healthz ${healthz}, /readyz ${readyz} at the end | 0 |`);
    console.log(`| 5xx answers | ${result.fiveXX.total - result.fiveXX.connectionCap} (plus ${result.fiveXX.connectionCap} × 503 FH_ERR_HTTP_TOO_MANY_CONNECTIONS from the caps the floods go past)${result.fiveXX.unexpected.length ? `: ${result.fiveXX.unexpected.slice(0, 5).join('; ')}` : ''} | 0 |`);
    console.log(`| error log lines / stderr | ${target.problems().length}${target.problems().length ? `: ${target.problems().slice(0, 3).join(' / ')}` : ''} | 0 |`);
    console.log(`| acknowledged well-behaved readings in InfluxDB | HTTP ${stored.http} / ${result.acked.http}, MQTT ${stored.mqtt} / ${result.acked.mqtt} | all, no more |`);
    console.log(`| well-behaved MQTT client disconnected | ${result.mqttDisconnects} | 0 |`);
    console.log(`| load generator event-loop delay p99 | quiet ${result.loadGeneratorDelayP99Ms.quiet.toFixed(1)} ms, soak ${result.loadGeneratorDelayP99Ms.soak.toFixed(1)} ms | (its share of a latency) |`);

    console.log('\n| hostile kind | requests | outcomes |');
    console.log('|---|---:|---|');
    for (const line of hostileRows(result)) console.log(line);

    failed = crashed !== undefined || healthz !== 200 || result.fiveXX.unexpected.length > 0 || lost.http !== 0 || lost.mqtt !== 0;
  } finally {
    await target.stop();
    await influx.stop();
    rmSync(root, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

await main();
