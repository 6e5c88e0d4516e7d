/**
 * Pruning de-duplication keys without an index by age: a sweep over the keys in their own order,
 * a bounded stretch per prune, paced by the keys recorded since the prune before.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { NormalizedReading } from '../../../../services/ingestor/reading.js';
import { createSqliteSpool } from '../../../../services/ingestor/spool/sqlite-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER } from '../../../../services/ingestor/spool/spool.js';

const HOUR = 3_600_000;
const WINDOW = 72 * HOUR;
const CONSUMERS = [INFLUX_CONSUMER, BUS_CONSUMER];
const at = (i: number, tag: string): NormalizedReading => ({ device: `n-${i % 3}`, farm: 'f', field: 'a', id: `${tag}-${i}`, ts: 1.7e12 + i, values: { rssi: -70 } });
const batch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => at(i, tag));

describe('pruning de-duplication keys', () => {
  it('forgets the keys older than the window and keeps every younger one, however the table is ordered', async () => {
    let now = 1_000_000;
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS, now: () => now });
    await spool.append({ correlationId: 'old', readings: batch(12_000, 'old') });
    now += 36 * HOUR;
    await spool.append({ correlationId: 'young', readings: batch(12_000, 'young') });
    now += 36 * HOUR + 1;
    // 24,000 keys recorded since the last prune: one prune goes round the whole table.
    expect(await spool.pruneDedup(WINDOW)).toBe(12_000);
    expect((await spool.append({ correlationId: 'again', readings: batch(12_000, 'old') })).stored.every((s) => s)).toBe(true);
    expect((await spool.append({ correlationId: 'again', readings: batch(12_000, 'young') })).stored.some((s) => s)).toBe(false);
    spool.close();
  });

  it('visits a bounded stretch per prune when few keys came since the one before, and goes on where it stopped', async () => {
    let now = 1_000_000;
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS, now: () => now });
    await spool.append({ correlationId: 'c', readings: batch(25_000, 'k') });
    // Nothing expired yet: this round of the sweep deletes nothing and the pace starts over.
    expect(await spool.pruneDedup(WINDOW)).toBe(0);
    now += WINDOW + 1;
    // No key recorded since: each prune visits its minimum (10,000 keys), then the rest, then wraps.
    expect(await spool.pruneDedup(WINDOW)).toBe(10_000);
    expect(await spool.pruneDedup(WINDOW)).toBe(10_000);
    expect(await spool.pruneDedup(WINDOW)).toBe(5_000);
    expect(await spool.pruneDedup(WINDOW)).toBe(0);
    expect((await spool.append({ correlationId: 'c', readings: batch(25_000, 'k') })).stored.every((s) => s)).toBe(true);
    spool.close();
  });

  it('goes on where it stopped across a restart, so a process restarted often still reaches the last keys', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fh-dedup-')), 'spool.db');
    let now = 1_000_000;
    const open = () => createSqliteSpool({ path, consumers: CONSUMERS, now: () => now });
    const keys = (device: string, tag: string) => Array.from({ length: 15_000 }, (_, i) => ({ ...at(i, tag), device }));
    let spool = open();
    // Old keys of a device that sorts last, young ones of a device that sorts first.
    await spool.append({ correlationId: 'old', readings: keys('z-1', 'old') });
    now += HOUR;
    await spool.append({ correlationId: 'young', readings: keys('a-1', 'young') });
    expect(await spool.pruneDedup(WINDOW)).toBe(0); // one round over everything; nothing has expired
    now += WINDOW - HOUR / 2;
    // The old device's keys have expired. A prune visits its minimum, all of it young keys …
    expect(await spool.pruneDedup(WINDOW)).toBe(0);
    spool.close();
    // … and after a restart the next one goes on from there, into the expired keys.
    spool = open();
    expect(await spool.pruneDedup(WINDOW)).toBe(5_000);
    expect(await spool.pruneDedup(WINDOW)).toBe(10_000);
    spool.close();
  });

  it('keeps the keys in one B-tree: a spool file has no index by age', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fh-dedup-')), 'spool.db');
    const spool = createSqliteSpool({ path, consumers: CONSUMERS });
    await spool.append({ correlationId: 'c', readings: batch(3, 'k') });
    spool.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'dedup' AND type = 'index'").pluck().all()).toEqual([]);
    db.close();
  });
});
