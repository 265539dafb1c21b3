import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createCofferFixture } from '../test-support/coffer-fixture.js';

/**
 * Fail closed, as Vault does: when the audit record of a reveal, a use or a change cannot be
 * written, the operation fails and nothing changes. A trigger makes every audit insert fail
 * (SQLite here; the audit write shares the operation's transaction on every dialect).
 */
describe('when the audit log cannot be written', () => {
  it('refuses reveals, uses and changes, and changes nothing', async () => {
    const fx = await createCofferFixture('sqlite');
    try {
      const { coffer, admin } = fx;
      const secret = await coffer.secrets.create(admin.actor, {
        name: 'mail',
        kind: 'smtp',
        values: { host: 'smtp.example.com', username: 'u', password: 'PLANTED-FAIL-CLOSED' },
      });
      const db = coffer.database.db;
      await sql`CREATE TRIGGER audit_full BEFORE INSERT ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit storage full'); END`.execute(db);

      const attempts: [string, () => Promise<unknown>][] = [
        ['reveal', () => coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })],
        ['use', () => coffer.secrets.use(admin.actor, secret.id, { purpose: 'mail' })],
        ['update', () => coffer.secrets.update(admin.actor, secret.id, { values: { password: 'new' } })],
        ['metadata', () => coffer.secrets.updateMetadata(admin.actor, secret.id, { description: 'x' })],
        ['delete', () => coffer.secrets.delete(admin.actor, secret.id)],
      ];
      for (const [what, attempt] of attempts) {
        const outcome = await attempt().then(
          (value) => ({ ok: true as const, value }),
          (err: unknown) => ({ ok: false as const, err }),
        );
        expect([what, outcome.ok]).toEqual([what, false]);
        expect(JSON.stringify(outcome)).not.toContain('PLANTED-FAIL-CLOSED');
      }

      await sql`DROP TRIGGER audit_full`.execute(db);
      const after = await coffer.secrets.get(admin.actor, secret.id);
      expect(after).toMatchObject({ currentVersion: 1, description: '', deletedAt: null });
      const values = await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true });
      expect(values.values.password).toBe('PLANTED-FAIL-CLOSED');
      expect((await coffer.audit.verify(admin.actor)).ok).toBe(true);
    } finally {
      await fx.close();
    }
  });
});
