// The Vault door's pure parts: KV paths to Coffer names and back, LIST keys, and the
// translation of core errors into Vault's status codes and messages.
import { readFileSync } from 'node:fs';
import { CofferError, errorCodes } from '@coffer/core';
import { describe, expect, it } from 'vitest';
import { kvPathOf, listKeys, listPrefixOf, namePrefixOf, secretNameOf } from '../src/vault-api/kv-paths.js';
import { VaultHttpError, vaultErrorOf, vaultStatusOf } from '../src/vault-api/vault-errors.js';

describe('KV paths and secret names', () => {
  it('joins segments with __ and splits them back', () => {
    expect(secretNameOf('mail')).toBe('mail');
    expect(secretNameOf('app/db/creds')).toBe('app__db__creds');
    expect(secretNameOf('a_b/c-d/e_')).toBe('a_b__c-d__e_');
    expect(kvPathOf('app__db__creds')).toBe('app/db/creds');
    expect(kvPathOf('a_b__c-d__e_')).toBe('a_b/c-d/e_');
  });

  it('refuses paths no name can hold', () => {
    for (const path of ['', '/a', 'a/', 'a//b', 'a__b', 'a_/b', '_a', '-a', 'a.b', 'a b', 'ä']) {
      expect([path, secretNameOf(path)]).toEqual([path, undefined]);
    }
    expect(secretNameOf('123e4567-e89b-12d3-a456-426614174000')).toBeUndefined();
    expect(secretNameOf(`${'a/'.repeat(43)}b`)).toBeUndefined(); // 130 characters as a name
    expect(secretNameOf(`${'a/'.repeat(42)}b`)).toBe(`${'a__'.repeat(42)}b`); // 127
  });

  it('is one-to-one: every name it shows maps back to itself', () => {
    const names = ['a', 'a_', 'a__b', 'a___b', 'a____b', 'a__', 'a-_b', 'x__y_', 'x_y__z', 'A1__b2__C3'];
    for (const name of names) {
      const path = kvPathOf(name);
      if (path !== undefined) expect([name, secretNameOf(path)]).toEqual([name, name]);
    }
    expect(kvPathOf('a___b')).toBeUndefined();
    expect(kvPathOf('a__')).toBeUndefined();
    expect(kvPathOf('a____b')).toBeUndefined();
  });

  it('lists the keys right under a prefix and the folders below it', () => {
    const names = ['app', 'app__db__creds', 'app__mq', 'mail', 'app___odd', 'apple', 'app__db__creds'];
    expect(listKeys([], names)).toEqual(['app', 'app/', 'apple', 'mail']);
    expect(listKeys(['app'], names)).toEqual(['db/', 'mq']);
    expect(listKeys(['app', 'db'], names)).toEqual(['creds']);
    expect(listKeys(['nothing'], names)).toEqual([]);
    expect(listPrefixOf('')).toEqual([]);
    expect(listPrefixOf('app/db/')).toEqual(['app', 'db']);
    expect(listPrefixOf('app/db')).toEqual(['app', 'db']);
    expect(listPrefixOf('app_/db')).toBeUndefined();
    expect(namePrefixOf(['app', 'db'])).toBe('app__db__');
    expect(namePrefixOf([])).toBe('');
  });
});

describe('Vault errors', () => {
  it('has a Vault status for every core error code, each documented in docs/vault-api.md', () => {
    const doc = readFileSync(new URL('../../../docs/vault-api.md', import.meta.url), 'utf8');
    for (const code of errorCodes) {
      const status = vaultStatusOf[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(doc, `docs/vault-api.md has no row for ${status}`).toMatch(
        new RegExp(`\\| \`${status}\`\\s+\\|`),
      );
    }
  });

  it('answers as Vault does', () => {
    expect(vaultErrorOf(new CofferError('not_found', 'secret "x" not found'))).toEqual({
      status: 404,
      errors: [],
      log: false,
    });
    expect(vaultErrorOf(new CofferError('unauthenticated', 'the token is unknown'))).toMatchObject({
      status: 403,
      errors: ['permission denied'],
    });
    expect(vaultErrorOf(new CofferError('forbidden', 'reveal needs read on secret "x"')).errors).toEqual([
      'permission denied',
      'reveal needs read on secret "x"',
    ]);
    expect(
      vaultErrorOf(new CofferError('version_conflict', 'secret "x" is at version 2, not 1')),
    ).toMatchObject({
      status: 400,
      errors: ['check-and-set parameter did not match the current version'],
    });
    expect(vaultErrorOf(new CofferError('conflict', 'being written by someone else; retry')).status).toBe(
      412,
    );
    expect(
      vaultErrorOf(new CofferError('conflict', 'several secrets named "x"', { details: { ids: [] } })).status,
    ).toBe(400);
    expect(
      vaultErrorOf(
        CofferError.validation([
          { path: 'values.port', message: 'expected an integer' },
          { path: 'labels.Team', message: 'label names are lowercase' },
        ]),
      ).errors,
    ).toEqual(['data.port: expected an integer', 'custom_metadata.Team: label names are lowercase']);
    expect(vaultErrorOf(new VaultHttpError(405, ['unsupported operation']))).toMatchObject({ status: 405 });
  });

  it('says only "internal error" for what it does not know, and asks for a log line', () => {
    const secretish = 'planted-in-an-exception';
    expect(vaultErrorOf(new Error(secretish))).toEqual({
      status: 500,
      errors: ['internal error'],
      log: true,
    });
    expect(vaultErrorOf(new CofferError('internal', secretish))).toEqual({
      status: 500,
      errors: ['internal error'],
      log: true,
    });
  });
});
