import type { Command } from 'commander';
import { PIPELINE_CONFIG } from '../../host/config.js';
import { describeConfig } from '../../shared/config.js';
import { cliConfig, printJson } from '../context.js';

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('Settings: FIELDHOOK_<KEY> in the environment or <KEY> in FIELDHOOK_CONFIG_FILE');
  config
    .command('show')
    .description('Validate and print the effective settings (secrets masked)')
    .action(() => {
      const effective = cliConfig() as Record<string, unknown>;
      for (const key of Object.keys(effective)) {
        if (/TOKEN|PASSWORD|SECRET/.test(key) && effective[key]) effective[key] = '[redacted]';
      }
      printJson(effective);
    });
  config
    .command('table')
    .description('Print every setting with its default as a Markdown table')
    .action(() => void process.stdout.write(`${describeConfig(PIPELINE_CONFIG)}\n`));
}
