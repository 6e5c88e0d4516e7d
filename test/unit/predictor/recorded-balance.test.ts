import { describe, expect, it } from 'vitest';
import { recordedBalanceQuery } from '../../../services/predictor/recorded-balance.js';

describe('the recorded balance query', () => {
  it('asks for one field\'s newest evaluation with a balance, names quoted as InfluxQL literals', () => {
    const q = recordedBalanceQuery("o'hara", 'north\\1', 1_000.4, 2_000.9);
    expect(q).toBe(
      `SELECT "depletion_mm", "raw_mm" FROM "recommendation" WHERE time > 1000ms AND time <= 2000ms AND "farm" = 'o\\'hara' AND "field" = 'north\\\\1' AND "raw_mm" > 0 ORDER BY time DESC LIMIT 1`,
    );
  });
});
