import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/**
 * The `fieldhook` command. Each area registers its own sub-commands (see `commands/index.ts`);
 * this file only wires them together and turns thrown errors into a message and an exit code.
 */
export function buildProgram(): Command {
  const program = new Command('fieldhook')
    .description('Sensor readings in, irrigation advice out.')
    .showHelpAfterError();
  registerCommands(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`${JSON.stringify({ error: { code: e.code ?? 'FH_ERR_CLI', message: e.message } })}\n`);
    process.exitCode = 1;
  }
}

await main();
