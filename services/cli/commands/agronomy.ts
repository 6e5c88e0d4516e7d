import type { Command } from 'commander';
import { evaluateBalanceRequest, evaluateEt0Request, evaluateMany } from '../../agronomy/requests.js';
import { Errors } from '../../shared/error-catalog.js';

async function readStdinJson(): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw Errors.agronomyInvalidInput('stdin is empty: expected a JSON object or array', { field: 'input' });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw Errors.agronomyInvalidInput(`stdin is not valid JSON: ${(err as Error).message}`, { field: 'input' });
  }
}

/** `fieldhook agronomy et0|balance`: FAO-56 calculations an agronomist can check by hand. */
export function registerAgronomyCommands(program: Command): void {
  const agronomy = program
    .command('agronomy')
    .description('FAO-56 calculations: JSON in on stdin (one object or an array), JSON out with intermediate values');

  agronomy
    .command('et0')
    .description('Reference evapotranspiration: daily (mm/day), or hourly (mm/hour) when the input has an "hour" field')
    .action(async () => {
      const out = evaluateMany(await readStdinJson(), evaluateEt0Request);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  agronomy
    .command('balance')
    .description('Root-zone soil water balance (FAO-56 ch. 8): TAW, RAW, and per day Ks, ETc adj, depletion, irrigate')
    .action(async () => {
      const out = evaluateMany(await readStdinJson(), evaluateBalanceRequest);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
