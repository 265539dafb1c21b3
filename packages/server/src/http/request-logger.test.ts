import { createLogger, type Logger } from '@coffer/core';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { requestLoggerFactory } from './request-logger.js';

function capture(level: string): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => written.push(line) } });
  return { logger, lines: () => written.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const withoutTime = (line: Record<string, unknown>) => {
  const { time: _, ...rest } = line;
  return rest;
};

describe('requestLoggerFactory', () => {
  it('writes the lines a pino child bound to the request id writes, redaction included', () => {
    const lazy = capture('info');
    const eager = capture('info');
    const log = requestLoggerFactory(lazy.logger as unknown as FastifyBaseLogger, { reqId: 'req-7' }, {});
    const child = eager.logger.child({ reqId: 'req-7' });
    for (const target of [log, child] as FastifyBaseLogger[]) {
      target.info({ route: '/secrets', headers: { authorization: 'Bearer cfr_planted' } }, 'request');
      target.warn('plain message');
      target.debug({ hidden: true }, 'below the level');
      target.error({ err: new Error('boom') }, 'request failed');
    }
    expect(lazy.lines().map(withoutTime)).toEqual(eager.lines().map(withoutTime));
    expect(lazy.lines()).toHaveLength(3);
    expect(JSON.stringify(lazy.lines())).not.toContain('cfr_planted');
    expect(lazy.lines()[0]).toMatchObject({ reqId: 'req-7', route: '/secrets' });
  });

  it('makes no pino child for a request that logs nothing at its level', () => {
    const { logger, lines } = capture('info');
    const child = vi.spyOn(logger, 'child');
    const log = requestLoggerFactory(logger as unknown as FastifyBaseLogger, { reqId: 'r' }, {});
    log.debug({ status: 200 }, 'request');
    log.trace('nothing');
    expect(log.level).toBe('info');
    expect(child).not.toHaveBeenCalled();
    log.info('now');
    log.info('again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines()).toHaveLength(2);
  });

  it('follows the parent’s level as it changes', () => {
    const { logger, lines } = capture('info');
    const log = requestLoggerFactory(logger as unknown as FastifyBaseLogger, { reqId: 'r' }, {});
    log.debug('hidden');
    logger.level = 'debug';
    log.debug('shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('gives a route with its own level a real child at that level', () => {
    const { logger, lines } = capture('warn');
    const log = requestLoggerFactory(
      logger as unknown as FastifyBaseLogger,
      { reqId: 'r' },
      { level: 'debug' },
    );
    log.debug('route debug');
    expect(lines().map((l) => l.msg)).toEqual(['route debug']);
  });
});
