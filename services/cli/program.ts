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
    .showHelpAfterError();
  registerCommands(program);
  return program;
}
