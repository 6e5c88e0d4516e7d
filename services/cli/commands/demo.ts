import type { Command } from 'commander';
import { LOG_FORMATS } from '../../shared/common-config.js';
import { Errors } from '../../shared/error-catalog.js';
import type { LogFormat } from '../../shared/logger.js';

/** `fieldhook demo`: a demo farm on embedded defaults, its advice printed as it is delivered. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run fieldhook with a simulated demo farm (six fields, three days of history, a live fleet) and print its signed webhooks')
    .option('--json', 'one JSON line per delivered event instead of a human line')
    .option('--reset', 'delete the demo data folder first and start over')
    .option('--data-dir <dir>', 'data folder of the demo (default: FIELDHOOK_DATA_DIR or ./fieldhook-demo-data)')
    .option('--log-format <format>', 'pipeline logs on stderr: auto, json or pretty', process.env.FIELDHOOK_LOG_FORMAT ?? 'auto')
    .action(async (_o: unknown, cmd: Command) => {
      // --json before or after the command name.
      const o = cmd.optsWithGlobals<{ json?: boolean; reset?: boolean; dataDir?: string; logFormat: string }>();
      if (!(LOG_FORMATS as readonly string[]).includes(o.logFormat)) throw Errors.cliInvalid(`--log-format is one of ${LOG_FORMATS.join(', ')}`);
      // The demo, the simulator and the training code behind it load only for this command.
      const { runDemo } = await import('../../demo/run-demo.js');
      const demo = await runDemo({
        json: o.json === true,
        reset: o.reset === true,
        logFormat: o.logFormat as LogFormat,
        ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
      });
      await new Promise<void>((resolve) => {
        const onSignal = () => {
          process.stderr.write('\ndemo: stopping (the fleet, then the pipeline)…\n');
          // A second Ctrl-C does not wait.
          process.once('SIGINT', () => process.exit(130));
          resolve();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      await demo.stop();
      process.stderr.write('demo: stopped; run it again to continue, or with --reset to start over\n');
    });
}
