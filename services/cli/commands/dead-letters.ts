import { join } from 'node:path';
import type { Command } from 'commander';
import { createSqliteSpool } from '../../ingestor/spool/sqlite-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER } from '../../ingestor/spool/spool.js';
import { cliConfig, printJson, wholeNumber } from '../context.js';

function withSpool<T>(fn: (spool: ReturnType<typeof createSqliteSpool>) => Promise<T>): Promise<T> {
  const spool = createSqliteSpool({ path: join(cliConfig().DATA_DIR, 'spool.db'), consumers: [INFLUX_CONSUMER, BUS_CONSUMER] });
  return fn(spool).finally(() => spool.close());
}

export function registerDeadLetterCommands(program: Command): void {
  const deadLetters = program.command('dead-letters').description('Readings InfluxDB refused permanently (400/422), kept with the reason');
  deadLetters
    .command('list')
    .option('--limit <n>', 'at most this many', '100')
    .action((o: { limit: string }) => withSpool(async (spool) => printJson(await spool.listDeadLetters(wholeNumber('--limit', o.limit, 1, 100_000)))));
  deadLetters
    .command('requeue [ids...]')
    .description('Send dead letters to InfluxDB again (all when no id is given)')
    .action((ids: string[]) =>
      withSpool(async (spool) => printJson({ requeued: await spool.requeueDeadLetters(ids.length ? ids.map((id) => wholeNumber('a dead letter id', id, 1, Number.MAX_SAFE_INTEGER)) : undefined) })),
    );
}
