import type { Command } from 'commander';
import { PIPELINE_CONFIG } from '../../host/config.js';
import { ENV_PREFIX, describeConfig } from '../../shared/config.js';
import { redactSettings } from '../../shared/secrets.js';
import { cliConfig, printJson } from '../context.js';

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('Settings: FIELDHOOK_<KEY> in the environment or <KEY> in FIELDHOOK_CONFIG_FILE');
  config
    .command('show')
    .description('Validate and print the effective settings (secret settings and credentials in URLs masked)')
    // What is masked is what the schemas declare secret(), not what a name looks like.
    .action(() => printJson(redactSettings(PIPELINE_CONFIG, cliConfig() as Record<string, unknown>)));
  config
    .command('table')
    .description('Print every setting with its default as a Markdown table (--json: a list)')
    .option('--json', 'the settings as JSON')
    .action((_o: unknown, cmd: Command) => {
      if (!cmd.optsWithGlobals<{ json?: boolean }>().json) return void process.stdout.write(`${describeConfig(PIPELINE_CONFIG)}\n`);
      printJson(
        Object.entries(PIPELINE_CONFIG).map(([key, schema]) => {
          const parsed = schema.safeParse(undefined);
          return { variable: `${ENV_PREFIX}${key}`, default: parsed.success ? (parsed.data ?? null) : null, meaning: schema.description ?? '' };
        }),
      );
    });
}
