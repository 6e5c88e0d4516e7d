import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log line. Device secrets, webhook secrets, admin
 * tokens and InfluxDB tokens never reach a log sink.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  '*.secret',
  '*.token',
  '*.password',
  '*.adminToken',
  '*.influxToken',
  'secret',
  'token',
  'password',
];

export interface LoggerSettings {
  level?: string;
  /** Extra bindings on every line, e.g. `{ service: 'ingestor' }`. */
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings = {}, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: settings.base ?? null,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that discards everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
