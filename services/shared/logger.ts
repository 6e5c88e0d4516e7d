import { pino, type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import { redactUrlsInText } from './secrets.js';

export type { Logger };

/** Settings declared `secret()` in the config schemas (the areas' `config.ts`). */
export const SECRET_SETTINGS = ['INFLUX_TOKEN', 'MQTT_PASSWORD', 'ADMIN_TOKEN', 'DISPATCH_MQTT_PASSWORD', 'SMTP_URL', 'DATABASE_URL', 'SLACK_SIGNING_SECRET', 'TELEGRAM_SECRET_TOKEN', 'TELEGRAM_BOT_TOKEN'] as const;

/**
 * Paths that may carry secrets anywhere in a log line. Device secrets, webhook secrets, admin
 * tokens and InfluxDB tokens never reach a log sink; credentials inside URLs (`MQTT_URL`,
 * `INFLUX_URL`) are masked wherever a URL appears, in fields and in messages.
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
  // Settings declared secret() in the config schemas, wherever a settings object is logged
  // (a unit test keeps this list equal to the schemas' secret keys).
  ...SECRET_SETTINGS.flatMap((key) => [key, `*.${key}`]),
];

/** How deep {@link scrubUrls} looks into a log object. */
const SCRUB_DEPTH = 4;

/**
 * `value` with the credentials of every URL in its strings masked (`mqtt://user:***@host`,
 * `?token=***`), copied only where something changed; plain objects and arrays are walked a few
 * levels deep, other objects (errors, buffers) are left to the serializers.
 */
export function scrubUrls(value: unknown, depth = SCRUB_DEPTH): unknown {
  if (typeof value === 'string') return redactUrlsInText(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item: unknown) => {
      const scrubbed = scrubUrls(item, depth - 1);
      if (scrubbed !== item) changed = true;
      return scrubbed;
    });
    return changed ? out : value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const scrubbed = scrubUrls(item, depth - 1);
    if (scrubbed !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = scrubbed;
  }
  return out ?? value;
}

export interface LoggerSettings {
  level?: string;
  /** Extra bindings on every line, e.g. `{ service: 'ingestor' }`. */
  base?: Record<string, unknown>;
  /**
   * `json` (one object per line, for machines), `pretty` (one readable line per event, for
   * people) or `auto` (pretty when stdout is a terminal). Default `auto`. Ignored when a
   * destination is given.
   */
  format?: LogFormat;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Whether `format` means pretty lines on this process's stdout. */
export function isPretty(format: LogFormat = 'auto', stdoutIsTty: boolean = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTty);
}

/**
 * pino-pretty as a synchronous stream in this thread (not a transport worker): lines keep their
 * order with the command's own output, and nothing is lost when the process exits. The same
 * redaction and URL scrubbing apply, since they run before the line is formatted.
 */
function prettyStream(fd = 1): pino.DestinationStream {
  return pinoPretty({
    sync: true,
    destination: fd,
    colorize: (fd === 2 ? process.stderr : process.stdout).isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'app',
    singleLine: true,
  });
}

/** pino's error serializer, with URL credentials masked in the message and the stack. */
function serializeError(err: Error): unknown {
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== 'object') return serialized;
  for (const key of ['message', 'stack'] as const) {
    if (typeof serialized[key] === 'string') serialized[key] = redactUrlsInText(serialized[key]);
  }
  return serialized;
}

/**
 * Where a logger with this format writes when it must use file descriptor `fd` (2: stderr, for
 * commands whose stdout is their output): pretty or JSON lines as {@link isPretty} decides for that descriptor.
 */
export function logStream(format: LogFormat, fd: 1 | 2): pino.DestinationStream {
  const tty = (fd === 2 ? process.stderr : process.stdout).isTTY === true;
  return isPretty(format, tty) ? prettyStream(fd) : pino.destination({ fd, sync: true });
}

export function createLogger(settings: LoggerSettings = {}, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: settings.base ?? null,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: {
      // Fields of each line; child bindings are fixed labels (`service`), not scrubbed.
      log: (object) => scrubUrls(object) as Record<string, unknown>,
    },
    serializers: { err: serializeError },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg: unknown) => (typeof arg === 'string' ? redactUrlsInText(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  if (destination) return pino(options, destination);
  return isPretty(settings.format) ? pino(options, prettyStream()) : pino(options);
}

/** A logger that discards everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
