import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DISPATCH_MIGRATIONS } from '../../../../services/dispatcher/store/sqlite-migrations.js';
import { createSqliteStore } from '../../../../services/dispatcher/store/sqlite-store.js';
import { openSqlite } from '../../../../services/shared/sqlite.js';

const T0 = Date.parse('2026-07-06T00:00:00Z');
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('the dispatcher store with delivery formats', () => {
  it('migrates a store of the first schema: existing subscriptions stay Standard Webhooks, English, UTC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-dispatch-migrate-'));
    dirs.push(dir);
    const path = join(dir, 'dispatch.sqlite');
    const old = openSqlite(path, DISPATCH_MIGRATIONS.slice(0, 1));
    old
      .prepare(`INSERT INTO subscriptions (id, url, description, events, farms, fields, enabled, created_at, updated_at) VALUES ('sub_old', 'https://a.example.com/', '', '["*"]', '[]', '[]', 1, ?, ?)`)
      .run(T0, T0);
    old.close();

    const store = createSqliteStore(path);
    try {
      expect(await store.subscriptions.get('sub_old')).toMatchObject({ format: 'standard-webhooks', locale: 'en', timeZone: 'UTC', settings: {} });
    } finally {
      await store.close();
    }
  });

  it('stores and updates format, locale, time zone and settings', async () => {
    const store = createSqliteStore(':memory:');
    const base = { url: 'https://api.telegram.org/bot1:x', description: '', events: ['*'], farms: [], fields: [], enabled: true, rateLimitPerSecond: null };
    await store.subscriptions.create({ ...base, id: 'sub_t', format: 'telegram', locale: 'he', timeZone: 'Asia/Jerusalem', settings: { chat_id: -100 } }, 'whsec_x', T0);
    expect(await store.subscriptions.get('sub_t')).toMatchObject({ format: 'telegram', locale: 'he', timeZone: 'Asia/Jerusalem', settings: { chat_id: -100 } });
    await store.subscriptions.update('sub_t', { locale: 'en', settings: { chat_id: '@farm' } }, T0 + 1);
    expect(await store.subscriptions.get('sub_t')).toMatchObject({ format: 'telegram', locale: 'en', timeZone: 'Asia/Jerusalem', settings: { chat_id: '@farm' } });
    await store.close();
  });
});
