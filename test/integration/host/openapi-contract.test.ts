/**
 * The OpenAPI document is a contract the app keeps: schemathesis (infra/harness/schemathesis.ts)
 * reads `/documentation/json` of a running app (ingest, dispatcher and the status page's API, a registered device, the
 * real InfluxDB) and sends what it generates from it, valid and invalid, with every check on: no
 * 5xx, only documented statuses, content types and bodies, schema-valid requests accepted,
 * schema-violating ones refused, 405 for methods a path does not take. A fixed seed and a bound on
 * examples keep the run the same every time and within a minute or so.
 * Runs against InfluxDB 1.8 only: it holds the HTTP API to its document, InfluxDB only stores what
 * is accepted and nothing is read back from it, and a second run on 2.7 would add two minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../../services/dispatcher/config.js';
import type { Transport } from '../../../services/dispatcher/http-transport.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import { buildIngestor, type Ingestor } from '../../../services/ingestor/build-ingestor.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { buildStatusPage } from '../../../services/status/build-status-page.js';
import { ensureSchemathesis, runSchemathesis, SCHEMATHESIS_VERSION } from '../../../infra/harness/schemathesis.js';
import { testConfig } from '../../helpers/ingest-fixture.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const ADMIN_TOKEN = 'openapi-contract-admin-token-0123';
// FIELDHOOK_SCHEMATHESIS_SEED explores with another seed; CI always runs the fixed one.
const SEED = Number(process.env.FIELDHOOK_SCHEMATHESIS_SEED ?? 20261130);
const MAX_EXAMPLES = 50;

// Webhooks of the subscriptions schemathesis creates go nowhere: every receiver answers 204.
const noNetwork: Transport = async () => ({ statusCode: 204, headers: {}, snippet: '' });

describe(`the OpenAPI document, checked by schemathesis ${SCHEMATHESIS_VERSION}`, () => {
  const database = `openapi_contract_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-openapi-contract-'));
  let devices: DeviceRepository;
  let ingestor: Ingestor;
  let dispatcher: FieldhookDispatcher;
  let app: FastifyInstance;
  let url: string;
  let deviceSecret: string;

  beforeAll(async () => {
    await influx.createDatabase(database);
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    deviceSecret = (await devices.add({ id: 'contract-node-1', farm: 'contract-farm', field: 'north', kind: 'device' })).secret;
    // Rate limiting off: schemathesis sends hundreds of requests as one device, and a 429 would
    // stand in for the answers the contract is about.
    const config = testConfig({ DATA_DIR: dir, MQTT_LISTEN_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', INGEST_RATE_LIMIT_PER_MINUTE: '0' });
    ingestor = buildIngestor({
      config,
      logger: silentLogger(),
      devices,
      influx: influx.target(database),
    });
    dispatcher = buildDispatcher({
      // Every address allowed: which ranges a deployment refuses is its setting, not the contract
      // (a refused one is a 400 FH_ERR_WEBHOOK_SSRF_BLOCKED, tested in test/integration/dispatcher/ssrf.test.ts).
      config: createDispatchConfig({ ADMIN_TOKEN, DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'), WEBHOOK_ALLOW_CIDRS: { '*': ['0.0.0.0/0', '::/0'] } }),
      logger: silentLogger(),
      transport: noNetwork,
      resolver: async () => [{ address: '93.184.215.14', family: 4 }],
    });
    await ingestor.start();
    await dispatcher.start();
    const status = buildStatusPage({ adminToken: ADMIN_TOKEN, tls: false, influx: influx.target(database), sources: { devices, ingestor, dispatcher } });
    app = buildHostApp([ingestor, dispatcher, status], { logger: silentLogger() });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await dispatcher?.stop();
    await ingestor?.stop();
    devices?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every check with a fixed seed and a bounded number of examples', async () => {
    // Installs the pinned schemathesis if `npm run services:prepare` has not; throws the reason
    // (no Python, PyPI unreachable), so that this test fails rather than skips.
    ensureSchemathesis();
    const result = await runSchemathesis({
      schemaUrl: `${url}/documentation/json`,
      bearer: { bearerAuth: ADMIN_TOKEN, deviceSecret },
      seed: SEED,
      maxExamples: MAX_EXAMPLES,
      timeoutMs: 150_000,
    });
    if (result.exitCode !== 0) process.stderr.write(`schemathesis report (exit ${result.exitCode}, ${result.durationMs} ms):\n${result.output}\n`);
    else process.stdout.write(`schemathesis: ${/^Test cases:\n\s*(.+)$/m.exec(result.output)?.[1] ?? '?'} (seed ${SEED}, ${result.durationMs} ms)\n`);
    expect(result.output).toMatch(new RegExp(`Seed: ${SEED}`));
    expect(result.exitCode, 'schemathesis found failures: its report is above').toBe(0);
  }, 180_000);
});
