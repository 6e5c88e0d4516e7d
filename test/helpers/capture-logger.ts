import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../services/shared/logger.js';

/** A JSON logger whose records (parsed, in order) the test reads. */
export function captureLogger(level = 'info'): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level }, sink) };
}
