import { describe, expect, it } from 'vitest';
import {
  assertPasswordPolicy,
  createPasswordHasher,
  generatePassword,
  owaspArgon2idParameters,
  passwordLength,
} from './password-hasher.js';

describe('password hasher', () => {
  const hasher = createPasswordHasher();

  it('hashes with argon2id and OWASP parameters, salted', async () => {
    const a = await hasher.hash('correct horse battery');
    const b = await hasher.hash('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse battery');
    expect(owaspArgon2idParameters).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('verifies the right password and refuses others without throwing', async () => {
    const stored = await hasher.hash('correct horse battery');
    expect(await hasher.verify(stored, 'correct horse battery')).toBe(true);
    expect(await hasher.verify(stored, 'correct horse batterY')).toBe(false);
    expect(await hasher.verify('not a hash', 'correct horse battery')).toBe(false);
    expect(await hasher.verifyDummy('correct horse battery')).toBe(false);
  });

  it('asks for a rehash when a hash used weaker parameters', async () => {
    const weak = await createPasswordHasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 }).hash(
      'pw pw pw pw pw',
    );
    expect(hasher.needsRehash(weak)).toBe(true);
    expect(hasher.needsRehash(await hasher.hash('pw pw pw pw pw'))).toBe(false);
    expect(hasher.needsRehash('garbage')).toBe(true);
  });

  it('accepts 12 to 1024 characters, counting code points, and never echoes the password', () => {
    expect(() => assertPasswordPolicy('x'.repeat(12))).not.toThrow();
    expect(() => assertPasswordPolicy('x'.repeat(1024))).not.toThrow();
    expect(() => assertPasswordPolicy('🔑'.repeat(12))).not.toThrow();
    expect(passwordLength('🔑🔑')).toBe(2);
    for (const bad of ['short-secret', 'y'.repeat(1025)].map((p, i) => (i === 0 ? p.slice(0, 11) : p))) {
      try {
        assertPasswordPolicy(bad);
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'validation', details: { issues: [{ path: 'password' }] } });
        expect(JSON.stringify(err) + String(err)).not.toContain(bad);
      }
    }
    expect(() => assertPasswordPolicy(undefined)).toThrow(/expected a string/);
  });

  it('generates strong passwords', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generatePassword()).not.toBe(a);
  });
});
