import { createHmac, randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import { createLogger, silentLogger } from '../logging/logger.js';
import { systemClock } from '../shared/clock.js';
import { keyEnvSource, PASSPHRASE_KDF } from './key-env-source.js';
import type { KeySourceContext } from './key-source-types.js';

const context: KeySourceContext = { logger: silentLogger(), clock: systemClock };

function load(value: string | undefined, variable?: string) {
  const name = variable ?? 'COFFER_MASTER_KEY';
  return keyEnvSource(
    { source: 'env', ...(variable === undefined ? {} : { variable }) },
    { env: { [name]: value } },
  ).load(context);
}

async function rejection(promise: Promise<unknown>): Promise<CofferError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    return err as CofferError;
  }
  throw new Error('expected a rejection');
}

describe('environment variable key source', () => {
  it('reads a base64 key under a stable id derived from the key', async () => {
    const key = randomBytes(32);
    const loaded = await load(key.toString('base64'));
    const expectedId = `env-${createHmac('sha256', key).update('coffer-key-id').digest('hex').slice(0, 12)}`;
    expect(loaded.currentId).toBe(expectedId);
    expect(loaded.keys).toHaveLength(1);
    expect(loaded.keys[0]!.key.equals(key)).toBe(true);
    // A restart reads the same variable and must arrive at the same id.
    expect((await load(key.toString('base64'))).currentId).toBe(expectedId);
    expect((await load(randomBytes(32).toString('base64'))).currentId).not.toBe(expectedId);
  });

  it('stretches a passphrase with scrypt and the documented parameters', async () => {
    const passphrase = 'correct horse battery staple';
    const loaded = await load(`  ${passphrase}\n`);
    const { N, r, p, keyLength, salt } = PASSPHRASE_KDF;
    const expected = scryptSync(passphrase, salt, keyLength, { N, r, p, maxmem: 256 * 1024 * 1024 });
    expect(loaded.keys[0]!.key.equals(expected)).toBe(true);
    expect(loaded.currentId).toMatch(/^env-[0-9a-f]{12}$/);
    expect((await load(passphrase)).currentId).toBe(loaded.currentId);
  });

  it('reads several id=KEY entries, the first being current', async () => {
    const k2 = randomBytes(32);
    const k1 = randomBytes(32);
    const loaded = await load(`k2=${k2.toString('base64')}, k1=${k1.toString('base64')}`);
    expect(loaded.currentId).toBe('k2');
    expect(loaded.keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(loaded.keys[0]!.key.equals(k2)).toBe(true);
    expect(loaded.keys[1]!.key.equals(k1)).toBe(true);
  });

  it('keeps the fingerprint id of a bare key when a new key is put in front of it', async () => {
    const old = randomBytes(32).toString('base64');
    const alone = await load(old);
    const both = await load(`k-new=${randomBytes(32).toString('base64')},${old}`);
    expect(both.keys.map((k) => k.id)).toEqual(['k-new', alone.currentId]);
  });

  it.each(['tooShort-9x', 'qz7short=wq9x'])(
    'refuses a short passphrase without echoing any of it (%s)',
    async (passphrase) => {
      const err = await rejection(load(passphrase));
      expect(err.code).toBe('invalid_config');
      expect(err.message).toContain('COFFER_MASTER_KEY');
      expect(err.message).toContain('16 characters');
      for (const part of passphrase.split('=')) {
        expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain(part);
      }
    },
  );

  it('names the offending entry of several, never its value', async () => {
    const err = await rejection(load(`a=${randomBytes(32).toString('base64')},bb=short-secret,,`));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('entry 2 is neither');
    expect(err.message).not.toContain('bb');
    expect(err.message).toContain('entry 3 is empty');
    expect(err.message).not.toContain('short-secret');
  });

  it('refuses duplicate ids', async () => {
    const key = randomBytes(32).toString('base64');
    const err = await rejection(load(`a=${key},a=${randomBytes(32).toString('base64')}`));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('entries 1 and 2 have the same key id');
  });

  it('reports an unset variable by name', async () => {
    const err = await rejection(load(undefined, 'MY_KEY'));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('MY_KEY is not set');
    expect((await rejection(load('   '))).code).toBe('invalid_config');
  });

  it('warns when a value looks like a base64 key of the wrong size', async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (l: string) => lines.push(l) } });
    const sixteen = randomBytes(16).toString('base64');
    const loaded = await keyEnvSource({ source: 'env' }, { env: { COFFER_MASTER_KEY: sixteen } }).load({
      logger,
      clock: systemClock,
    });
    expect(loaded.keys[0]!.key).toHaveLength(32);
    expect(lines.join('')).toContain('not of 32 bytes');
    expect(lines.join('')).not.toContain(sixteen);
  });

  it('cannot rotate, and says how to', async () => {
    const source = keyEnvSource({ source: 'env', variable: 'MY_KEY' }, { env: {} });
    expect(source.canRotate).toBe(false);
    expect(source.reload).toBeUndefined();
    const err = await rejection(source.rotate(context));
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain('MY_KEY');
    expect(err.message).toContain('restart');
  });

  it('rejects an invalid variable name as configuration', () => {
    expect(() => keyEnvSource({ source: 'env', variable: 'not a name' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });
});
