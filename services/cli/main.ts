import { Errors } from '../shared/error-catalog.js';
import { buildProgram } from './program.js';

// Entry point of the `fieldhook` command: errors become one JSON line on stderr and exit code 1.
try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`${JSON.stringify({ error: { code: e.code ?? Errors.cli.code, message: e.message } })}\n`);
  process.exitCode = 1;
  // A command that failed half-way may leave something running (a worker thread, a socket): the
  // process still ends, and a supervisor's `Restart=on-failure` sees the failure.
  setTimeout(() => process.exit(1), 3_000).unref();
}
