import type { Command } from 'commander';
import { loadProfiles, type ProfileSet } from '../../ingestor/profiles/load.js';
import { applyProfile } from '../../ingestor/profiles/profile.js';
import { Errors } from '../../shared/error-catalog.js';
import { cliConfig, printJson } from '../context.js';

/** The shipped profiles and those of `PROFILES_DIR`, checked as `fieldhook start` checks them. */
function profiles(): ProfileSet {
  const dir = cliConfig().PROFILES_DIR;
  return loadProfiles(dir ? { extraDir: dir } : {});
}

function named(set: ProfileSet, name: string) {
  const profile = set.byName(name);
  if (!profile) throw Errors.profileNotFound(`No device profile ${name}; fieldhook profiles list shows them`, { profile: name });
  return profile;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerProfileCommands(program: Command): void {
  const cmd = program.command('profiles').description('Device profiles: vendor codecs\' payloads onto canonical quantities (docs/devices.md)');

  cmd
    .command('list')
    .description('The shipped profiles and those of PROFILES_DIR, with what selects each')
    .action(() => {
      const set = profiles();
      printJson(
        set.names().map((name) => {
          const p = set.byName(name)!;
          return { name, description: p.description, chirpstack: p.chirpstack, ttn: p.ttn, quantities: p.mappings.map((m) => m.quantity) };
        }),
      );
    });

  cmd
    .command('show <name>')
    .description('A profile as its file defines it')
    .action((name: string) => printJson(named(profiles(), name).file));

  cmd
    .command('test <name>')
    .description('Read a decoded payload (JSON on stdin) through a profile: the values it yields and each field refused')
    .action(async (name: string) => {
      const profile = named(profiles(), name);
      let decoded: unknown;
      try {
        decoded = JSON.parse(await readStdin());
      } catch {
        throw Errors.cliInvalid('stdin must be the decoded payload as JSON');
      }
      const result = applyProfile(profile, decoded);
      // Buffered readings' times as people read them.
      printJson({ profile: profile.name, ...result, history: result.history.map((h) => ({ ...h, ts: new Date(h.ts).toISOString() })) });
    });
}
