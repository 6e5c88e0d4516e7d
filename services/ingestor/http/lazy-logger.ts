import type { FastifyBaseLogger } from 'fastify';

type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
/** pino's loggers answer whether a level is on; a logger that cannot say is taken as logging everything. */
type Logger = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
type LogArgs = Parameters<FastifyBaseLogger['info']>;

/**
 * A request's logger that becomes a real child logger only when something is logged at an enabled
 * level. Fastify makes a child per request, and pino serialises its bindings and sets up redaction
 * for each: about 2 % of the main thread at 100 readings per request, for a logger that a busy
 * ingest path almost never writes to. One object per request, its methods on the prototype.
 */
class LazyChildLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: ChildOptions,
  ) {}

  /** The logger that decides levels: the child once made, or when the route sets its own level. */
  private decider(): Logger {
    return this.made ?? (this.options?.level === undefined ? this.parent : this.real());
  }

  private real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options) as Logger);
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: LogArgs): void {
    if (this.made === undefined && !this.isLevelEnabled(level)) return;
    (this.real()[level] as (...a: LogArgs) => void)(...args);
  }

  get level(): string {
    return this.decider().level;
  }

  set level(value: string) {
    this.real().level = value;
  }

  isLevelEnabled(level: string): boolean {
    return this.decider().isLevelEnabled?.(level) ?? true;
  }

  child(bindings: Record<string, unknown>, options?: ChildOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.write('error', args);
  }

  warn(...args: LogArgs): void {
    this.write('warn', args);
  }

  info(...args: LogArgs): void {
    this.write('info', args);
  }

  debug(...args: LogArgs): void {
    this.write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.write('trace', args);
  }

  silent(): void {}
}

/** Fastify's `childLoggerFactory` for the ingest routes: see {@link LazyChildLogger}. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: ChildOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
