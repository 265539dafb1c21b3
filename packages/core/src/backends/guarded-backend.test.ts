import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { createLogger } from '../logging/logger.js';
import type { Backend } from './backend.js';
import { guardBackend } from './guarded-backend.js';

const planted = 'PLANTED-GUARD-c0ffee';
const ref = { secretId: '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', version: 1 };

/** A backend that builds its error messages from the values it was given, some thrown at once. */
const careless: Backend = {
  name: 'careless',
  type: 'careless-module',
  capabilities: { versioning: true, listing: true, labels: false, envelope: false },
  put: (_ref, values) => {
    throw new TypeError(`store refused ${JSON.stringify(values)}`);
  },
  get: async () => {
    throw Object.assign(new Error(`no such value ${planted}`), { code: 'ENOENT' });
  },
  delete: () => Promise.reject(new Error(planted)),
  list: async () => {
    throw new Error(`cannot list ${planted}`);
  },
};

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('a guarded backend', () => {
  it('turns thrown and rejected errors into backend_unavailable without their message, stack or cause', async () => {
    const guarded = guardBackend(careless);
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const failures = [
      await failureOf(() => guarded.put(ref, { password: planted })),
      await failureOf(() => guarded.get(ref)),
      await failureOf(() => guarded.delete(ref)),
      await failureOf(() => guarded.list()),
    ];
    for (const err of failures) {
      expect(isCofferError(err, 'backend_unavailable')).toBe(true);
      logger.error({ err }, 'backend failed');
      expect((err as Error).cause).toBeUndefined();
      expect(`${(err as Error).message}\n${(err as Error).stack}`).not.toContain(planted);
    }
    expect((failures[0] as Error).message).toBe(
      `backend careless (careless-module) failed to put secret ${ref.secretId} version 1: TypeError`,
    );
    expect((failures[1] as Error).message).toContain(': ENOENT');
    expect(lines).toHaveLength(4);
    expect(lines.join('')).not.toContain(planted);
  });
});
