import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from '../../../../services/ingestor/http/lazy-logger.js';
import { captureLogger } from '../../../helpers/capture-logger.js';

describe('lazyChildLogger (a request logger made only when it writes)', () => {
  it('makes no child for records below the level, and one child, with its bindings, for the first record written', () => {
    const { lines, logger } = captureLogger('warn');
    const child = vi.spyOn(logger, 'child');
    const log = lazyChildLogger(logger, { reqId: 'req-1' }, {});
    log.info('quiet');
    log.debug({ a: 1 }, 'quiet too');
    expect(child).not.toHaveBeenCalled();
    expect(log.level).toBe('warn');
    expect((log as typeof log & { isLevelEnabled(level: string): boolean }).isLevelEnabled('info')).toBe(false);

    log.warn({ device: 'n-1' }, 'refused fields');
    log.error('and again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.reqId, l.msg, l.device])).toEqual([
      ['req-1', 'refused fields', 'n-1'],
      ['req-1', 'and again', undefined],
    ]);
  });

  it("follows a route's own level and a level set on it, as a pino child does", () => {
    const { lines, logger } = captureLogger('warn');
    const log = lazyChildLogger(logger, { reqId: 'req-2' }, { level: 'debug' });
    log.debug('route level');
    expect(lines.map((l) => l.msg)).toEqual(['route level']);

    const other = lazyChildLogger(logger, { reqId: 'req-3' }, {});
    other.level = 'info';
    other.info('raised');
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['req-2', 'route level'],
      ['req-3', 'raised'],
    ]);
    expect(logger.level).toBe('warn');
  });

  it('hands its bindings on to a child of its own', () => {
    const { lines, logger } = captureLogger('info');
    lazyChildLogger(logger, { reqId: 'req-4' }, {}).child({ part: 'uplink' }).info('nested');
    expect(lines).toMatchObject([{ reqId: 'req-4', part: 'uplink', msg: 'nested' }]);
  });
});
