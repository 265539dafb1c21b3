import { describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import { createKeySource, parseKeySourceConfig } from './index.js';

describe('keyring settings', () => {
  it('default to the key file in the data directory', () => {
    const config = parseKeySourceConfig(undefined);
    expect(config).toEqual({ source: 'file' });
    expect(Object.isFrozen(config)).toBe(true);
    const source = createKeySource(config, { dataDir: '/var/lib/coffer' });
    expect(source.status).toEqual({ type: 'file', path: '/var/lib/coffer/keyring.json' });
    expect(source.canRotate).toBe(true);
  });

  it('build the env source with its default variable', () => {
    const source = createKeySource(parseKeySourceConfig({ source: 'env' }), { env: {} });
    expect(source.status).toEqual({ type: 'env', variable: 'COFFER_MASTER_KEY' });
    expect(source.canRotate).toBe(false);
  });

  it('report every problem as invalid_config naming the setting', () => {
    let err: unknown;
    try {
      parseKeySourceConfig({ source: 'env', variable: '1-bad', extra: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CofferError);
    const { code, details } = err as CofferError;
    expect(code).toBe('invalid_config');
    expect(details.issues?.map((i) => i.path).sort()).toEqual(['keyring', 'keyring.variable']);
    expect(() => parseKeySourceConfig({ type: 'kms' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });
});
