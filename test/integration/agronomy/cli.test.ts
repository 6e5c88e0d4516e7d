import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const brussels = {
  date: '2023-07-06',
  latitude: 50.8,
  elevation: 100,
  tmax: 21.5,
  tmin: 12.3,
  rh_max: 84,
  rh_min: 63,
  wind_speed: 10 / 3.6,
  wind_height: 10,
  sunshine_hours: 9.25,
};

describe('fieldhook agronomy (command line)', () => {
  const cli = ['--import', 'tsx', 'services/cli/main.ts', 'agronomy'];

  it('reads an array on stdin and prints the same shape', () => {
    const out = execFileSync(process.execPath, [...cli, 'et0'], { input: JSON.stringify([brussels]), encoding: 'utf8' });
    const parsed = JSON.parse(out) as { et0: number }[];
    expect(parsed).toHaveLength(1);
    expect(parsed[0]!.et0).toBeCloseTo(3.88, 2);
  });

  it('exits non-zero with a coded error naming the field', () => {
    const res = spawnSync(process.execPath, [...cli, 'balance'], { input: JSON.stringify({ theta_fc: 0.2 }), encoding: 'utf8' });
    expect(res.status).not.toBe(0);
    const err = JSON.parse(res.stderr.trim().split('\n').at(-1)!) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('FH_ERR_AGRONOMY_INVALID_INPUT');
    expect(err.error.message).toContain('theta_wp');
  });
});
