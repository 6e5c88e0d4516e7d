import type { Command } from 'commander';
import { printJson } from '../context.js';

/** `fieldhook doctor`: check the settings and everything fieldhook depends on; exit 1 when a check fails. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Check the configuration, InfluxDB (reachable, version, write and query), the broker, the model and its card, the disk budget, clock skew and TLS files; say what to fix')
    .option('--json', 'the report as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      // Loaded here: the checks bring the MQTT client and the model runtime, which other commands do without.
      const { formatDoctorReport, runDoctor } = await import('../doctor.js');
      const report = await runDoctor();
      // --json before or after the command name.
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) printJson(report);
      else process.stdout.write(`${formatDoctorReport(report)}\n`);
      if (!report.ok) process.exitCode = 1;
    });
}
