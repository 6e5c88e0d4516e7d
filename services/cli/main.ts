import { CommanderError } from 'commander';
import { Errors } from '../shared/error-catalog.js';
import { buildProgram } from './program.js';

/** What a failed command prints: its catalog code, or FH_ERR_CLI_INVALID for a mistake on the command line. */
function errorOf(err: unknown): { code: string; message: string | undefined } {
  if (err instanceof CommanderError) return { code: Errors.cliInvalid.code, message: `${err.message.replace(/^error: /, '')} (fieldhook help <command> shows its usage)` };
  const e = err as { code?: string; message?: string };
  return { code: e.code ?? Errors.cli.code, message: e.message };
}

// Entry point of the `fieldhook` command: errors become one JSON line on stderr and exit code 1.
try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // --help and --version end the parse too, having printed what was asked (exit code 0); so does a
  // bare `fieldhook`, whose help is printed for a person (exit code 1).
  const shown = err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help');
  if (!shown) process.stderr.write(`${JSON.stringify({ error: errorOf(err) })}\n`);
  process.exitCode = err instanceof CommanderError ? err.exitCode || (shown ? 0 : 1) : 1;
  // A command that failed half-way may leave something running (a worker thread, a socket): the
  // process still ends, and a supervisor's `Restart=on-failure` sees the failure.
  if (process.exitCode !== 0) setTimeout(() => process.exit(1), 3_000).unref();
}
