/**
 * Log lines for people and for machines, as a process writes them to its stdout: one readable
 * line per event with LOG_FORMAT pretty, one JSON object per line with json, and secrets redacted
 * either way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPretty } from '../../../services/shared/logger.js';

const exec = promisify(execFile);

const script = (format: string) => `
  import { createLogger } from './services/shared/logger.ts';
  const logger = createLogger({ format: '${format}', base: { app: 'fieldhook' } });
  logger.info({ device: 'n-17', token: 'tok-0123456789abcdef' }, 'reading accepted');
  logger.warn({ influxUrl: 'http://user:pw-secret@influx:8086' }, 'InfluxDB slow');
`;

async function linesOf(format: string): Promise<string[]> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(format)], { env: { ...process.env, NO_COLOR: '1' } });
  return stdout.trimEnd().split('\n');
}

describe('log format', () => {
  it('auto is pretty on a terminal and JSON otherwise; pretty and json are what they say', () => {
    expect(isPretty('auto', true)).toBe(true);
    expect(isPretty('auto', false)).toBe(false);
    expect(isPretty('pretty', false)).toBe(true);
    expect(isPretty('json', true)).toBe(false);
  });

  it('pretty: one readable line per event, level and message first, secrets redacted', async () => {
    const lines = await linesOf('pretty');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: reading accepted/);
    expect(lines[0]).toContain('"device":"n-17"');
    expect(lines[1]).toMatch(/WARN: InfluxDB slow/);
    expect(lines.join('\n')).not.toMatch(/tok-0123456789abcdef|pw-secret/);
    expect(lines.join('\n')).toContain('[redacted]');
  });

  it('json (and auto when stdout is not a terminal): one JSON object per line, secrets redacted', async () => {
    for (const format of ['json', 'auto']) {
      const lines = await linesOf(format);
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(parsed.map((p) => [p.level, p.msg])).toEqual([[30, 'reading accepted'], [40, 'InfluxDB slow']]);
      expect(parsed[0]).toMatchObject({ app: 'fieldhook', device: 'n-17', token: '[redacted]' });
      expect(JSON.stringify(parsed)).not.toContain('pw-secret');
    }
  });
});
