import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asGroup } from '../identity/actor.js';
import { defineKind } from '../kinds/define-kind.js';
import { field } from '../kinds/field-builders.js';
import { kindFromDefinition } from '../kinds/kind-definition.js';
import {
  type CofferFixture,
  createCofferFixture,
  type TestPrincipal,
} from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';

const day = 86_400;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? String(err),
  );
}

/** A day from the fixture's clock, as an ISO date at midnight UTC. */
function dayFrom(now: Date, days: number): string {
  const d = new Date(now.getTime() + days * day * 1000);
  return `${d.toISOString().slice(0, 10)}T00:00:00.000Z`;
}

await describeEachDialect('expiry and rotation', (dialect) => {
  let fx: CofferFixture;
  let owner: TestPrincipal;
  let reader: TestPrincipal;
  let groupMember: TestPrincipal;
  let outsider: TestPrincipal;

  beforeAll(async () => {
    const weekly = defineKind({
      id: 'weekly-token',
      displayName: 'Weekly token',
      description: 'Rotated every week.',
      rotateEveryDays: 7,
      fields: { token: field.secret() },
    });
    fx = await createCofferFixture(dialect, {}, { kinds: [weekly] });
    owner = await fx.member('owner');
    reader = await fx.member('reader');
    groupMember = await fx.member('member');
    outsider = await fx.member('outsider');
  });
  afterAll(() => fx?.close());

  it('keeps expiry and rotation on create and in metadata, with the kind default when not given', async () => {
    const now = fx.time.clock();
    const token = await fx.coffer.secrets.create(owner.actor, {
      name: 'gh-token',
      kind: 'api-token',
      values: { token: 't0' },
      expiresAt: '2031-02-28',
    });
    expect(token.expiresAt).toBe('2031-02-28T00:00:00.000Z');
    expect(token.rotateEveryDays).toBe(90);
    expect(token.rotationDueAt).toBe(new Date(now.getTime() + 90 * day * 1000).toISOString());

    const none = await fx.coffer.secrets.create(owner.actor, {
      name: 'gh-token-2',
      kind: 'api-token',
      values: { token: 't0' },
      rotateEveryDays: null,
    });
    expect([none.expiresAt, none.rotateEveryDays, none.rotationDueAt]).toEqual([null, null, null]);

    const mail = await fx.coffer.secrets.create(owner.actor, {
      name: 'mail-no-rotation',
      kind: 'smtp',
      values: { host: 'mail.example.com' },
    });
    expect(mail.rotateEveryDays).toBeNull();
    const weekly = await fx.coffer.secrets.create(owner.actor, {
      name: 'weekly',
      kind: 'weekly-token',
      values: { token: 'w' },
      expiresAt: '2031-06-01T12:30:00+02:00',
    });
    expect(weekly.rotateEveryDays).toBe(7);
    expect(weekly.expiresAt).toBe('2031-06-01T10:30:00.000Z');

    const read = await fx.coffer.secrets.get(reader.actor, token.id).catch(() => undefined);
    expect(read).toBeUndefined(); // not shared yet
    const again = await fx.coffer.secrets.get(owner.actor, token.id);
    expect(again).toMatchObject({
      expiresAt: '2031-02-28T00:00:00.000Z',
      rotateEveryDays: 90,
      rotationDueAt: token.rotationDueAt,
    });
  });

  it('refuses a bad expiry or interval with a validation error naming the field, changing nothing', async () => {
    for (const [input, path] of [
      [{ expiresAt: '2031-02-30' }, 'expiresAt'],
      [{ expiresAt: 'next week' }, 'expiresAt'],
      [{ expiresAt: '2031-01-01T10:00:00' }, 'expiresAt'], // no zone
      [{ rotateEveryDays: 0 }, 'rotateEveryDays'],
      [{ rotateEveryDays: 2.5 }, 'rotateEveryDays'],
      [{ rotateEveryDays: 3651 }, 'rotateEveryDays'],
    ] as const) {
      const err = await fx.coffer.secrets
        .create(owner.actor, { name: 'bad-dates', kind: 'generic', values: { a: 'b' }, ...input })
        .catch((e: { code: string; details: { issues: { path: string }[] } }) => e);
      expect(err, JSON.stringify(input)).toMatchObject({ code: 'validation' });
      expect((err as { details: { issues: { path: string }[] } }).details.issues.map((i) => i.path)).toEqual([
        path,
      ]);
    }
    expect(await codeOf(fx.coffer.secrets.get(owner.actor, 'bad-dates'))).toBe('not_found');
    const s = await fx.coffer.secrets.create(owner.actor, {
      name: 'dates',
      kind: 'generic',
      values: { a: 'b' },
    });
    expect(
      await codeOf(fx.coffer.secrets.updateMetadata(owner.actor, s.id, { expiresAt: '31.12.2031' })),
    ).toBe('validation');
    expect((await fx.coffer.secrets.get(owner.actor, s.id)).revision).toBe(s.revision);
  });

  it('changes expiry and interval as metadata: write level, check-and-set, audited, rotation clock from the last values change', async () => {
    const s = await fx.coffer.secrets.create(owner.actor, {
      name: 'rotating',
      kind: 'generic',
      values: { a: '1' },
    });
    const created = fx.time.clock().getTime();
    expect(s.rotateEveryDays).toBeNull();
    fx.time.advance(10 * day);

    const set = await fx.coffer.secrets.updateMetadata(owner.actor, s.id, {
      rotateEveryDays: 30,
      expiresAt: '2032-01-01',
      expectedRevision: s.revision,
    });
    // 30 days from the values' creation, not from this edit
    expect(set.rotationDueAt).toBe(new Date(created + 30 * day * 1000).toISOString());
    expect(set.expiresAt).toBe('2032-01-01T00:00:00.000Z');
    expect(set.currentVersion).toBe(1);
    expect(
      await codeOf(
        fx.coffer.secrets.updateMetadata(owner.actor, s.id, {
          rotateEveryDays: 7,
          expectedRevision: s.revision,
        }),
      ),
    ).toBe('version_conflict');

    // A reader may not change it; a writer may.
    await fx.coffer.shares.share(owner.actor, s.id, {
      granteeType: 'user',
      granteeId: reader.id,
      level: 'read',
    });
    expect(await codeOf(fx.coffer.secrets.updateMetadata(reader.actor, s.id, { expiresAt: null }))).toBe(
      'forbidden',
    );

    // New values restart the rotation clock.
    fx.time.advance(5 * day);
    const rotated = await fx.coffer.secrets.update(owner.actor, s.id, { values: { a: '2' } });
    expect(rotated.rotationDueAt).toBe(new Date(fx.time.clock().getTime() + 30 * day * 1000).toISOString());
    expect((await fx.coffer.secrets.get(owner.actor, s.id)).rotationDueAt).toBe(rotated.rotationDueAt);

    const cleared = await fx.coffer.secrets.updateMetadata(owner.actor, s.id, {
      expiresAt: null,
      rotateEveryDays: null,
    });
    expect([cleared.expiresAt, cleared.rotateEveryDays, cleared.rotationDueAt]).toEqual([null, null, null]);

    const records = await fx.coffer.audit.query(fx.admin.actor, {
      targetId: s.id,
      action: 'secret.update_metadata',
    });
    expect(records.items.map((r) => r.details.fields)).toContainEqual(['expiresAt', 'rotateEveryDays']);
  });

  describe('what is due', () => {
    let ids: Record<string, string>;
    let groupId: string;

    beforeAll(async () => {
      const now = fx.time.clock();
      const make = async (
        name: string,
        extra: { expiresAt?: string | null; rotateEveryDays?: number | null },
      ) =>
        (
          await fx.coffer.secrets.create(owner.actor, {
            name,
            kind: 'generic',
            values: { v: name },
            ...extra,
          })
        ).id;
      ids = {
        expired: await make('due-expired', { expiresAt: dayFrom(now, -2) }),
        expiring: await make('due-expiring', { expiresAt: dayFrom(now, 10) }),
        later: await make('due-later', { expiresAt: dayFrom(now, 100) }),
        rotation: await make('due-rotation', { rotateEveryDays: 20 }),
        both: await make('due-both', { expiresAt: dayFrom(now, 25), rotateEveryDays: 5 }),
        nothing: await make('due-nothing', {}),
      };
      await fx.coffer.shares.share(owner.actor, ids.expiring!, {
        granteeType: 'user',
        granteeId: reader.id,
        level: 'read',
      });
      groupId = (await fx.group('due-group', [groupMember])).id;
      // A group share at `use`: usable, never listed.
      await fx.coffer.shares.share(fx.admin.actor, ids.rotation!, {
        granteeType: 'group',
        granteeId: groupId,
      });
      await fx.coffer.shares.share(fx.admin.actor, ids.expired!, {
        granteeType: 'group',
        granteeId: groupId,
        level: 'read',
      });
    });

    const names = async (
      principal: TestPrincipal | { actor: ReturnType<typeof asGroup> },
      withinDays = 30,
    ) => {
      const page = await fx.coffer.reminders.dueSecrets(principal.actor, { withinDays, limit: 1000 });
      return page.items
        .filter((i) => i.name.startsWith('due-'))
        .map((i) => `${i.name}:${i.reasons.join('+')}`);
    };

    it('lists expired, expiring and rotation-due secrets earliest first, for their owner', async () => {
      expect(await names(owner)).toEqual([
        'due-expired:expired',
        'due-both:expiring+rotation',
        'due-expiring:expiring',
        'due-rotation:rotation',
      ]);
      expect(await names(owner, 7)).toEqual(['due-expired:expired', 'due-both:rotation']);
      const page = await fx.coffer.reminders.dueSecrets(owner.actor, { withinDays: 30, reason: 'expiring' });
      expect(page.items.map((i) => i.name).filter((n) => n.startsWith('due-'))).toEqual([
        'due-both',
        'due-expiring',
      ]);
    });

    it('shows a reader what it may read, a use-only holder and outsiders nothing, admins everything', async () => {
      expect(await names(reader)).toEqual(['due-expiring:expiring']);
      expect(await names(groupMember)).toEqual(['due-expired:expired']); // the group's read share, not its use share
      expect(await names(outsider)).toEqual([]);
      expect(await names({ actor: asGroup(groupId) })).toEqual([]);
      const admin = await names(fx.admin);
      expect(admin).toContain('due-rotation:rotation');
      expect(admin).toHaveLength(4);
      const mine = await fx.coffer.reminders.dueSecrets(fx.admin.actor, { view: 'mine' });
      expect(mine.items.filter((i) => i.name.startsWith('due-'))).toEqual([]);
      const item = (await fx.coffer.reminders.dueSecrets(reader.actor, {})).items[0];
      expect(item).toMatchObject({
        name: 'due-expiring',
        access: { level: 'read', basis: 'share' },
        ownerId: owner.id,
      });
    });

    it('pages in due order with a cursor, and counts by reason for metrics', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await fx.coffer.reminders.dueSecrets(owner.actor, { limit: 1, cursor });
        seen.push(...page.items.map((i) => i.name));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(seen.filter((n) => n.startsWith('due-'))).toEqual([
        'due-expired',
        'due-both',
        'due-expiring',
        'due-rotation',
      ]);
      const counts = await fx.coffer.reminders.counts(30);
      expect(counts.expired).toBeGreaterThanOrEqual(1);
      expect(counts.expiring).toBeGreaterThanOrEqual(2);
      expect(counts.rotation).toBeGreaterThanOrEqual(2);
      expect(await codeOf(fx.coffer.reminders.dueSecrets(owner.actor, { withinDays: -1 }))).toBe(
        'validation',
      );
      expect(await codeOf(fx.coffer.reminders.dueSecrets(owner.actor, { cursor: 'nope' }))).toBe(
        'validation',
      );
    });

    it('forgets deleted secrets', async () => {
      await fx.coffer.secrets.delete(owner.actor, ids.expiring!);
      expect(await names(reader)).toEqual([]);
      await fx.coffer.secrets.restore(owner.actor, ids.expiring!);
      expect(await names(reader)).toEqual(['due-expiring:expiring']);
    });

    it('moves with the clock: what was later becomes due, and rotated values leave the list', async () => {
      fx.time.advance(75 * day);
      try {
        const due = await names(owner);
        expect(due).toContain('due-later:expiring');
        expect(due).toContain('due-rotation:rotation');
        await fx.coffer.secrets.update(owner.actor, ids.rotation!, { values: { v: 'rotated' } });
        // due again in 20 days: outside a week's window
        expect(await names(owner, 7)).not.toContain('due-rotation:rotation');
        expect(await names(owner)).toContain('due-expiring:expired');
      } finally {
        fx.time.advance(-75 * day);
      }
    });
  });
});

describe('kinds with a rotation interval', () => {
  it('take rotateEveryDays in TypeScript and in JSON, checked like other settings', () => {
    const json = kindFromDefinition({
      id: 'vendor-key',
      displayName: 'Vendor key',
      rotateEveryDays: 30,
      fields: [{ name: 'key', type: 'secret' }],
    });
    expect(json.rotateEveryDays).toBe(30);
    expect(json.jsonSchema['x-coffer-rotate-every-days']).toBe(30);
    expect(() =>
      kindFromDefinition({
        id: 'bad-key',
        displayName: 'Bad',
        rotateEveryDays: 0,
        fields: [{ name: 'k', type: 'secret' }],
      }),
    ).toThrow(/rotateEveryDays: must be a whole number of days from 1 to 3650/);
    expect(() =>
      kindFromDefinition({
        id: 'bad-key',
        displayName: 'Bad',
        rotateEveryDays: '90',
        fields: [{ name: 'k', type: 'secret' }],
      }),
    ).toThrow(/rotateEveryDays: expected a number/);
    const plain = defineKind({
      id: 'plain',
      displayName: 'Plain',
      description: '',
      fields: { a: field.string() },
    });
    expect(plain.rotateEveryDays).toBeNull();
    expect(plain.jsonSchema).not.toHaveProperty('x-coffer-rotate-every-days');
  });
});
