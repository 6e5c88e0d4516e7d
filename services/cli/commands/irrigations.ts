import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { IrrigationRecord } from '../../irrigations/record.js';
import { Errors } from '../../shared/error-catalog.js';
import { FieldhookError } from '../../shared/errors.js';
import { adminOptions, clientOf, print } from './subscriptions.js';

/**
 * `fieldhook irrigations add|list`: irrigation records through the running API (like
 * subscriptions), so a record made here reaches InfluxDB and the predictor as any other does.
 */
export function registerIrrigationCommands(program: Command): void {
  const irrigations = program.command('irrigations').description('Water applied to fields (irrigation records)');

  adminOptions(
    irrigations
      .command('add')
      .description('Record water applied to a field; the predictor counts it at once')
      .requiredOption('--farm <farm>')
      .requiredOption('--field <field>')
      .requiredOption('--depth <mm>', 'net depth applied, mm')
      .option('--start <time>', 'when the water started, ISO 8601 (default: --end)')
      .option('--end <time>', 'when the water stopped, ISO 8601 (default: now)')
      .option('--who <name>', 'who reports it (default: cli:<login name>)')
      .option('--idempotency-key <key>', 'send the same key again to retry without recording twice (default: a new one per run, named when the run fails)')
      .option('--json', 'print the record as JSON'),
  ).action(async (o: { farm: string; field: string; depth: string; start?: string; end?: string; who?: string; idempotencyKey?: string }, cmd: Command) => {
    const depth = Number(o.depth);
    if (!Number.isFinite(depth)) throw Errors.cliInvalid('--depth must be a number of mm');
    if (o.idempotencyKey !== undefined && (o.idempotencyKey.length === 0 || o.idempotencyKey.length > 255)) throw Errors.cliInvalid('--idempotency-key must be 1 to 255 characters');
    const key = o.idempotencyKey ?? `cli-${randomUUID()}`;
    const body = {
      farm: o.farm,
      field: o.field,
      depth_mm: depth,
      ...(o.start ? { start: o.start } : {}),
      ...(o.end ? { end: o.end } : {}),
      source: 'cli',
      who: o.who ?? `cli:${userInfo().username}`,
    };
    let record: IrrigationRecord & { warnings?: string[] };
    try {
      record = await clientOf(cmd).call<IrrigationRecord & { warnings?: string[] }>('POST', '/v1/irrigations', body, { 'idempotency-key': key });
    } catch (err) {
      // The record may have been stored before the answer was lost: a retry with this key records it once.
      if (err instanceof FieldhookError && err.statusCode >= 500) {
        throw new FieldhookError(err.code, err.statusCode, `${err.message}; retry with --idempotency-key ${key} to record it at most once`);
      }
      throw err;
    }
    // A field nothing evaluates (a typo, or a field not added yet): recorded, and said.
    for (const warning of record.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
    // --json before or after the command name.
    if (cmd.optsWithGlobals<{ json?: boolean }>().json) print(record);
    else process.stdout.write(`${describe(record)}\n`);
  });

  adminOptions(
    irrigations
      .command('list')
      .description('Irrigation records, the newest --limit of them, oldest first')
      .option('--farm <farm>')
      .option('--field <field>', 'a field id, or <farm>/<field> as predict and replay take it')
      .option('--since <time>', 'only water that ended at or after, ISO 8601')
      .option('--limit <n>', 'at most this many records, the newest (default 1000, at most 10000)')
      .option('--json', 'print JSON'),
  ).action(async (o: { farm?: string; field?: string; since?: string; limit?: string }, cmd: Command) => {
    if (o.limit !== undefined && !/^[1-9][0-9]*$/.test(o.limit)) throw Errors.cliInvalid('--limit must be a whole number above 0');
    // `farm/field`, as predict and replay take a field: ids hold no `/`, so it cannot be a field's own.
    const slash = o.field?.indexOf('/') ?? -1;
    if (slash >= 0) {
      const [farm, field] = [o.field!.slice(0, slash), o.field!.slice(slash + 1)];
      if (!farm || !field || field.includes('/')) throw Errors.cliInvalid('--field is a field id or <farm>/<field>');
      if (o.farm !== undefined && o.farm !== farm) throw Errors.cliInvalid(`--farm ${o.farm} and --field ${o.field} name different farms`);
      o = { ...o, farm, field };
    }
    const query = new URLSearchParams({
      ...(o.farm ? { farm: o.farm } : {}),
      ...(o.field ? { field: o.field } : {}),
      ...(o.since ? { since: o.since } : {}),
      ...(o.limit ? { limit: o.limit } : {}),
    });
    const { irrigations: list, truncated } = await clientOf(cmd).call<{ irrigations: IrrigationRecord[]; truncated?: boolean }>('GET', `/v1/irrigations${query.size ? `?${query}` : ''}`);
    if (cmd.optsWithGlobals<{ json?: boolean }>().json) print(list);
    else process.stdout.write(list.length === 0 ? 'No irrigation records.\n' : `${list.map(describe).join('\n')}\n`);
    // On stderr, so the list itself (and its JSON) stays as it is.
    if (truncated) process.stderr.write(`irrigations: the newest ${list.length} records shown, older ones left out: narrow with --since, --farm or --field, or raise --limit\n`);
  });
}

/** One line for people: when, where, how much, from whom. */
function describe(r: IrrigationRecord): string {
  const span = r.start === r.end ? r.end : `${r.start} – ${r.end}`;
  return `${span}  ${r.farm}/${r.field}  ${r.depth_mm} mm  ${r.source} ${r.who}  ${r.id}`;
}
