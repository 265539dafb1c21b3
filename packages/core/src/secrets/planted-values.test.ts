import { afterAll, beforeAll, expect, it } from 'vitest';
import { asGroup } from '../identity/actor.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';

/**
 * Plants known secret values, runs a scenario that touches every operation (and fails a few
 * on purpose), then scans everything the engine produced: log lines, every error's message,
 * details and stack, audit records (and their export), events, and every row of every table.
 * Only the `sql` backend's sealed blobs may hold the values, and not as plaintext.
 */
const planted = {
  smtp: 'PLANTED-smtp-password-7f3a9c',
  generic: 'PLANTED-generic-value-1b2c3d',
  updated: 'PLANTED-updated-value-4e5f60',
  badPort: 'PLANTED-bad-port-a1b2c3',
  unknownField: 'PLANTED-unknown-field-d4e5f6',
  tokenMask: 'PLANTED-api-token-778899',
};

await describeEachDialect('planted secret values', (dialect) => {
  let fx: CofferFixture;
  const errors: unknown[] = [];
  const events: unknown[] = [];
  const capture = async (operation: Promise<unknown>) => {
    try {
      return await operation;
    } catch (err) {
      errors.push(err);
      return undefined;
    }
  };

  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { versions: { keep: 2 } });
  });
  afterAll(() => fx?.close());

  it('never writes a value anywhere but its sealed blob', async () => {
    const { coffer, admin } = fx;
    coffer.events.subscribe((e) => events.push(e));
    const member = await fx.member('planted-member');
    const outsider = await fx.member('planted-outsider');
    const team = await fx.group('planted-team', [member, admin]);
    const systemGroup = await coffer.identity.systemGroupId();

    const smtp = await coffer.secrets.create(admin.actor, {
      name: 'planted-smtp',
      kind: 'smtp',
      description: 'mail relay',
      labels: { env: 'prod' },
      values: { host: 'smtp.example.com', username: 'mailer', password: planted.smtp },
    });
    const generic = await coffer.secrets.create(admin.actor, {
      name: 'planted-generic',
      kind: 'generic',
      values: { API_KEY: planted.generic },
    });
    const token = await coffer.secrets.create(admin.actor, {
      name: 'planted-token',
      kind: 'api-token',
      values: { token: planted.tokenMask },
    });

    // reads, reveals, uses
    await coffer.secrets.get(admin.actor, smtp.id);
    const masked = await coffer.secrets.readValues(admin.actor, smtp.id);
    expect(JSON.stringify(masked)).not.toContain(planted.smtp);
    await coffer.secrets.readValues(admin.actor, smtp.id, { reveal: true });
    await coffer.shares.share(admin.actor, smtp.id, { granteeType: 'group', granteeId: systemGroup });
    await coffer.secrets.use(asGroup(systemGroup), smtp.id, { purpose: 'mail' });
    await coffer.shares.share(admin.actor, generic.id, { granteeType: 'group', granteeId: team.id });
    await coffer.shares.share(admin.actor, token.id, {
      granteeType: 'user',
      granteeId: member.id,
      level: 'write',
    });

    // the masking round trip, updates, versions, rollback
    await coffer.secrets.update(admin.actor, smtp.id, {
      values: { ...masked.values, host: 'smtp2.example.com' },
    });
    await coffer.secrets.update(admin.actor, generic.id, { values: { API_KEY: planted.updated } });
    await coffer.secrets.update(member.actor, token.id, { values: { token: `${planted.tokenMask}-2` } });
    await coffer.secrets.versions(admin.actor, generic.id);
    await coffer.secrets.rollback(admin.actor, generic.id, 1);
    await coffer.secrets.list(admin.actor, { labels: ['env=prod'] });
    await coffer.secrets.usable(member.actor, {});
    await coffer.shares.unshare(admin.actor, generic.id, { granteeType: 'group', granteeId: team.id });

    // failures that carry planted values in their input
    await capture(
      coffer.secrets.create(admin.actor, {
        name: 'planted-bad',
        kind: 'smtp',
        values: {
          host: 'h',
          port: planted.badPort,
          password: planted.smtp,
          nonsenseField: planted.unknownField,
        },
      }),
    );
    await capture(
      coffer.secrets.update(admin.actor, smtp.id, {
        values: { port: planted.badPort, security: planted.smtp },
      }),
    );
    await capture(
      coffer.secrets.update(admin.actor, generic.id, {
        values: { API_KEY: planted.generic },
        expectedVersion: 1,
      }),
    );
    await capture(coffer.secrets.readValues(outsider.actor, smtp.id, { reveal: true }));
    await capture(coffer.secrets.use(member.actor, smtp.id, { purpose: planted.smtp.slice(0, 5) }));
    await capture(
      coffer.secrets.create(outsider.actor, {
        name: 'bad name',
        kind: 'generic',
        values: { API_KEY: planted.generic },
      }),
    );
    await capture(coffer.identity.login('admin', planted.smtp));
    await capture(coffer.identity.login(planted.generic, planted.smtp));

    // a tampered value fails, and says so without its content
    const blobRow = await coffer.database.db
      .selectFrom('secret_values')
      .select(['blob', 'version'])
      .where('secret_id', '=', token.id)
      .orderBy('version', 'desc')
      .executeTakeFirstOrThrow();
    const blob = Buffer.from(blobRow.blob);
    blob[blob.length - 1] = blob[blob.length - 1]! ^ 0xff;
    await coffer.database.db
      .updateTable('secret_values')
      .set({ blob })
      .where('secret_id', '=', token.id)
      .where('version', '=', blobRow.version)
      .execute();
    await capture(coffer.secrets.readValues(admin.actor, token.id, { reveal: true }));

    // lifecycle
    await coffer.secrets.delete(admin.actor, generic.id);
    await coffer.secrets.restore(admin.actor, generic.id);
    await coffer.secrets.purge(admin.actor, token.id);
    await coffer.audit.verify(admin.actor);
    let exported = '';
    for await (const line of coffer.audit.export(admin.actor, {})) exported += line;

    expect(errors.length).toBe(9);
    await coffer.events.sync();
    expect(events.length).toBeGreaterThan(5);
    const haystacks: Record<string, string> = {
      logs: fx.logText(),
      errors: errors
        .map((e) => {
          const err = e as Error & { details?: unknown; cause?: unknown };
          return [
            err.message,
            JSON.stringify(err.details ?? {}),
            err.stack ?? '',
            String(err.cause ?? ''),
          ].join('\n');
        })
        .join('\n'),
      events: JSON.stringify(events),
      auditExport: exported,
    };
    const tables = [
      'users',
      'groups',
      'group_members',
      'api_tokens',
      'sessions',
      'secrets',
      'secret_labels',
      'secret_versions',
      'value_journal',
      'shares',
      'audit_log',
      'audit_head',
      'keyring_keys',
      'events',
      'login_throttle',
      'job_leases',
    ] as const;
    for (const table of tables) {
      const rows = await coffer.database.db.selectFrom(table).selectAll().execute();
      haystacks[`table ${table}`] = JSON.stringify(rows, (_k, v) =>
        v?.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v,
      );
    }
    const blobs = await coffer.database.db.selectFrom('secret_values').select('blob').execute();
    haystacks['sealed blobs (raw bytes)'] = blobs
      .map((b) => Buffer.from(b.blob).toString('latin1'))
      .join('\n');

    for (const [where, text] of Object.entries(haystacks)) {
      for (const [which, value] of Object.entries(planted)) {
        expect(text.includes(value), `planted ${which} value found in ${where}`).toBe(false);
      }
    }
    // the scan looked at something real
    expect(haystacks['table audit_log']!.length).toBeGreaterThan(1000);
    expect(haystacks.errors).toContain('values.port');
  });
});
