/**
 * `fieldhook doctor` on a pipeline serving HTTPS with a certificate the command does not trust:
 * the readiness check says it is the certificate, and how to give the CLI its CA, rather than
 * "fetch failed".
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../../services/cli/doctor.js';
import { writePipelineRecord } from '../../../services/cli/local-pipeline.js';
import { selfSigned } from '../../helpers/self-signed.js';

describe('fieldhook doctor against HTTPS', () => {
  const tls = selfSigned('fieldhook-doctor-tls-');
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldhook-doctor-'));
  const server = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (_req, res) => res.end('{"ready":true}'));
  afterAll(() => {
    server.close();
    rmSync(tls.dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names an untrusted certificate and the way to trust it', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // This process stands for the running pipeline: its record names the HTTPS address.
    writePipelineRecord(dataDir, { httpUrl: `https://127.0.0.1:${port}`, influxUrl: 'http://127.0.0.1:9', mqttUrl: 'mqtt://127.0.0.1:9', pid: process.pid, startedAt: new Date().toISOString() });
    const report = await runDoctor({ FIELDHOOK_DATA_DIR: dataDir });
    const readiness = report.checks.find((c) => c.name === 'readiness')!;
    expect(readiness).toMatchObject({ status: 'fail', detail: expect.stringMatching(/self[- ]signed certificate/), fix: expect.stringContaining('NODE_EXTRA_CA_CERTS') });
  });
});
