import type { Command } from 'commander';
import { registerAgronomyCommands } from './agronomy.js';
import { registerChatCommands } from './chat.js';
import { registerConfigCommand } from './config.js';
import { registerDeadLetterCommands } from './dead-letters.js';
import { registerDeliveryCommands } from './deliveries.js';
import { registerDemoCommand } from './demo.js';
import { registerDoctorCommand } from './doctor.js';
import { registerDeviceCommands } from './devices.js';
import { registerIrrigationCommands } from './irrigations.js';
import { registerLeaveCommand } from './leave.js';
import { registerPredictorCommands } from './predictor.js';
import { registerProfileCommands } from './profiles.js';
import { registerSimulateCommand } from './simulate.js';
import { registerStartCommand } from './start.js';
import { registerSubscriptionCommands } from './subscriptions.js';

/** A module that adds its sub-commands to the `fieldhook` program. */
export type CommandRegistrar = (program: Command) => void;

// One line per area; keep alphabetical.
const registrars: CommandRegistrar[] = [
  registerAgronomyCommands,
  registerChatCommands,
  registerConfigCommand,
  registerDeadLetterCommands,
  registerDeliveryCommands,
  registerDemoCommand,
  registerDoctorCommand,
  registerDeviceCommands,
  registerIrrigationCommands,
  registerLeaveCommand,
  registerPredictorCommands,
  registerProfileCommands,
  registerSimulateCommand,
  registerStartCommand,
  registerSubscriptionCommands,
];

export function registerCommands(program: Command): void {
  for (const register of registrars) register(program);
}
