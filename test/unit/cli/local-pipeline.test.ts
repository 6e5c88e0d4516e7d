import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_FILE,
  PIPELINE_FILE,
  ensureAdminToken,
  readPipelineRecord,
  removePipelineRecord,
  runningPipeline,
  writePipelineRecord,
  type PipelineRecord,
} from '../../../services/cli/local-pipeline.js';
import { modeOf } from '../../helpers/file-modes.js';

describe('local pipeline record and admin token', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-local-pipeline-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const record = (pid: number): PipelineRecord => ({
    httpUrl: 'http://127.0.0.1:8080', influxUrl: 'http://127.0.0.1:8086', mqttUrl: 'mqtt://127.0.0.1:1883', pid, startedAt: '2026-07-01T00:00:00.000Z',
  });

  it('generates the admin token once per data folder, 0600 in a 0700 folder, and reuses it', () => {
    const dir = join(root, 'token', '.fieldhook');
    const first = ensureAdminToken(dir);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^fh_admin_[A-Za-z0-9_-]{32}$/);
    expect(modeOf(join(dir, ADMIN_TOKEN_FILE))).toBe(0o600);
    expect(modeOf(dir)).toBe(0o700);
    expect(ensureAdminToken(dir)).toMatchObject({ token: first.token, created: false });
  });

  it('writes the record 0600; a record whose process is gone is not a running pipeline', () => {
    const dir = join(root, 'record');
    ensureAdminToken(dir);
    writePipelineRecord(dir, record(process.pid));
    expect(modeOf(join(dir, PIPELINE_FILE))).toBe(0o600);
    expect(runningPipeline(dir)?.httpUrl).toBe('http://127.0.0.1:8080');
    // Pid 2^22 + 1 is above Linux's pid_max: no such process.
    writePipelineRecord(dir, record(4_194_305));
    expect(readPipelineRecord(dir)?.pid).toBe(4_194_305);
    expect(runningPipeline(dir)).toBeUndefined();
  });

  it('removes only the record of this process, not one a later start wrote', () => {
    const dir = join(root, 'remove');
    ensureAdminToken(dir);
    writePipelineRecord(dir, record(4_194_305));
    removePipelineRecord(dir);
    expect(readPipelineRecord(dir)).toBeDefined();
    writePipelineRecord(dir, record(process.pid));
    removePipelineRecord(dir);
    expect(readPipelineRecord(dir)).toBeUndefined();
  });
});
