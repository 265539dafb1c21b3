import { describe, expect, it } from 'vitest';
import { normalizeAddress, resolveCredentials } from './credentials.js';

describe('normalizeAddress', () => {
  it('gives one spelling per server', () => {
    expect(normalizeAddress('http://127.0.0.1:8470/')).toBe('http://127.0.0.1:8470');
    expect(normalizeAddress('https://coffer.example.com/api/v1/')).toBe('https://coffer.example.com');
    expect(normalizeAddress('coffer.internal:8470')).toBe('http://coffer.internal:8470');
    expect(normalizeAddress('https://example.com/coffer/')).toBe('https://example.com/coffer');
    expect(() => normalizeAddress('ftp://x')).toThrow('must be http:// or https://');
  });
});

describe('resolveCredentials', () => {
  const config = {
    current: 'http://a:1',
    servers: { 'http://a:1': { token: 'cfr_a' }, 'http://b:2': { token: 'cfr_b' } },
  };

  it('takes --addr, then COFFER_ADDR, then the last login, then the default', () => {
    expect(resolveCredentials(config, {}, 'http://b:2')).toMatchObject({
      address: 'http://b:2',
      addressFrom: 'flag',
      token: 'cfr_b',
    });
    expect(resolveCredentials(config, { COFFER_ADDR: 'http://b:2/' }, undefined)).toMatchObject({
      addressFrom: 'env',
      token: 'cfr_b',
    });
    expect(resolveCredentials(config, {}, undefined)).toMatchObject({
      address: 'http://a:1',
      addressFrom: 'config',
      token: 'cfr_a',
    });
    expect(resolveCredentials({ servers: {} }, {}, undefined)).toMatchObject({
      address: 'http://127.0.0.1:8470',
      addressFrom: 'default',
      token: undefined,
    });
  });

  it('sends a stored token only to its own server; COFFER_TOKEN goes anywhere', () => {
    expect(resolveCredentials(config, { COFFER_ADDR: 'http://c:3' }, undefined)).toMatchObject({
      token: undefined,
      tokenFrom: undefined,
    });
    expect(
      resolveCredentials(config, { COFFER_ADDR: 'http://c:3', COFFER_TOKEN: 'cfr_env' }, undefined),
    ).toMatchObject({
      token: 'cfr_env',
      tokenFrom: 'env',
    });
  });
});
