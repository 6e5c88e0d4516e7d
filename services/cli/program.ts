import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/**
 * The `fieldhook` command. Each area registers its own sub-commands (see `commands/index.ts`);
 * this file only wires them together.
 */
export function buildProgram(): Command {
  const program = new Command('fieldhook')
    .description('Sensor readings in, irrigation advice out.')
    // Commands print JSON by default; the ones that print text for people (doctor, demo, predict quality) switch with it.
    .option('--json', 'machine-readable output: JSON')
    // A mistake on the command line is an error like any other: thrown, and printed by main.ts as
    // one JSON line with a stable code. Set before the commands are added, which inherit it.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  registerCommands(program);
  return program;
}
