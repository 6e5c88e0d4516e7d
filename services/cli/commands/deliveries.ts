import type { Command } from 'commander';
import { Errors } from '../../shared/error-catalog.js';
import { adminOptions, clientOf, print } from './subscriptions.js';

const iso = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw Errors.cliInvalid(`--${name} must be an ISO 8601 time`);
  return d.toISOString();
};

interface ListOptions {
  subscription?: string;
  event?: string;
  status?: string;
  since?: string;
  until?: string;
  after?: string;
  limit: string;
}

export function registerDeliveryCommands(program: Command): void {
  const deliveries = adminOptions(program.command('deliveries').description('The webhook delivery log (via the dispatcher API)'));

  deliveries
    .command('list')
    .description('List deliveries, oldest first')
    .option('--subscription <id>')
    .option('--event <id>')
    .option('--status <status>', 'pending, succeeded, failed, aborted, expired or superseded')
    .option('--since <time>', 'created at or after (ISO 8601)')
    .option('--until <time>', 'created before (ISO 8601)')
    .option('--after <id>', 'next page: the last id of the previous one')
    .option('--limit <n>', 'page size (1..1000)', '100')
    .action(async (o: ListOptions, cmd: Command) => {
      const q = new URLSearchParams();
      if (o.subscription) q.set('subscription_id', o.subscription);
      if (o.event) q.set('event_id', o.event);
      if (o.status) q.set('status', o.status);
      const since = iso('since', o.since);
      const until = iso('until', o.until);
      if (since) q.set('since', since);
      if (until) q.set('until', until);
      if (o.after) q.set('after', o.after);
      q.set('limit', o.limit);
      print(await clientOf(cmd).call('GET', `/v1/deliveries?${q}`));
    });

  deliveries
    .command('show <id>')
    .description('One delivery with every attempt')
    .action(async (id: string, _o, cmd: Command) => print(await clientOf(cmd).call('GET', `/v1/deliveries/${encodeURIComponent(id)}`)));

  deliveries
    .command('retry <id>')
    .description('Send one delivery again now')
    .action(async (id: string, _o, cmd: Command) => print(await clientOf(cmd).call('POST', `/v1/deliveries/${encodeURIComponent(id)}/retry`)));
}
