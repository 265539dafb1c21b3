import { describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import {
  builtinKinds,
  createKindRegistry,
  defineKind,
  field,
  kindFromDefinition,
  smtpKind,
} from './index.js';

const zebra = defineKind({
  id: 'zebra',
  displayName: 'Zebra',
  description: '',
  fields: { a: field.string() },
});
const alpha = kindFromDefinition(
  { id: 'alpha', displayName: 'Alpha', fields: [{ name: 'a', type: 'string' }] },
  { source: '/etc/coffer/kinds/alpha.json' },
);

describe('createKindRegistry', () => {
  it('finds kinds by id', () => {
    const registry = createKindRegistry([...builtinKinds, zebra]);
    expect(registry.get('smtp')).toBe(smtpKind);
    expect(registry.get('zebra')).toBe(zebra);
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.has('zebra')).toBe(true);
    expect(registry.has('nope')).toBe(false);
    expect(registry.require('smtp')).toBe(smtpKind);
  });

  it('lists built-in kinds first in their usual order, then the others by id', () => {
    const shuffled = [zebra, ...[...builtinKinds].reverse(), alpha];
    const ids = createKindRegistry(shuffled)
      .list()
      .map((k) => k.id);
    expect(ids).toEqual([...builtinKinds.map((k) => k.id), 'alpha', 'zebra']);
  });

  it('names the known kinds when one is missing', () => {
    const registry = createKindRegistry([smtpKind, alpha]);
    try {
      registry.require('smpt');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CofferError);
      expect((err as CofferError).code).toBe('validation');
      expect((err as CofferError).details.issues).toEqual([
        { path: 'kind', message: 'unknown kind "smpt"; known kinds: smtp, alpha' },
      ]);
    }
  });

  it('refuses two kinds with one id, naming where both came from', () => {
    const impostor = kindFromDefinition(
      { id: 'smtp', displayName: 'Mail', fields: [{ name: 'a', type: 'string' }] },
      { source: '/etc/coffer/kinds/mail.json' },
    );
    try {
      createKindRegistry([...builtinKinds, impostor]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CofferError);
      expect((err as CofferError).code).toBe('already_exists');
      expect((err as CofferError).message).toBe(
        'duplicate kind id "smtp": defined by the built-in kind and by /etc/coffer/kinds/mail.json',
      );
    }
  });
});
