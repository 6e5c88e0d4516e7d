import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/**
 * The `fieldhook` command. Each area registers its own sub-commands (see `commands/index.ts`);
 * this file only wires them together.
 */
export function buildProgram(): Command {
  const program = new Command('fieldhook')
    .description('Sensor readings in, irrigation advice out.')
    .showHelpAfterError();
  registerCommands(program);
  return program;
}
