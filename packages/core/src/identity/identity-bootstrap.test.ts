import { afterEach, expect, it } from 'vitest';
import { createAuditLog } from '../audit/audit-log.js';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrator.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import { createIdentityService } from './identity-service.js';

await describeEachDialect('bootstrap', (dialect) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function freshDatabase(): Promise<{ testDb: TestDatabase; database: CofferDatabase }> {
    const testDb = await createTestDatabase(dialect);
    cleanup.push(() => testDb.drop());
    const database = await openDatabase(testDb.url);
    cleanup.push(() => database.close());
    await migrateToLatest(database);
    return { testDb, database };
  }

  const serviceFor = (database: CofferDatabase) =>
    createIdentityService({ database, audit: createAuditLog({ database }) });

  it('creates the system group and the first admin once, with a generated password shown once', async () => {
    const { database } = await freshDatabase();
    const identity = serviceFor(database);
    const result = await identity.bootstrap();
    if (!result.created) throw new Error('expected the first run to create the admin');
    expect(result.username).toBe('admin');
    expect(result.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await identity.bootstrap()).toEqual({ created: false });
    expect(await identity.bootstrap({ adminPassword: 'another password' })).toEqual({ created: false });

    const { user, actor } = await identity.login('admin', result.password);
    expect(user).toMatchObject({ role: 'admin', type: 'user', disabled: false });
    const groups = await database.db.selectFrom('groups').selectAll().execute();
    expect(groups.map((g) => [g.name, g.builtin])).toEqual([['system', 1]]);
    expect((await identity.resolveActor(actor)).role).toBe('admin');

    const audit = await database.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
    expect(audit.map((r) => [r.action, r.actor_type])).toEqual([
      ['group.create', 'system'],
      ['user.create', 'system'],
      ['auth.login', 'user'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(result.password);
  });

  it('uses a given admin password, which must meet the policy', async () => {
    const { database } = await freshDatabase();
    const identity = serviceFor(database);
    await expect(identity.bootstrap({ adminPassword: 'short' })).rejects.toMatchObject({
      code: 'validation',
    });
    expect(await identity.bootstrap({ adminPassword: 'chosen admin password' })).toEqual({
      created: true,
      username: 'admin',
      password: 'chosen admin password',
    });
    await identity.login('admin', 'chosen admin password');
  });

  it('creates exactly one admin when several processes start at once', async () => {
    const { testDb, database } = await freshDatabase();
    // Each handle stands for a server process with its own connection pool.
    const handles = [database];
    for (let i = 0; i < 3; i++) {
      const handle = await openDatabase(testDb.url);
      cleanup.push(() => handle.close());
      handles.push(handle);
    }
    const results = await Promise.all(handles.map((handle) => serviceFor(handle).bootstrap()));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const users = await database.db.selectFrom('users').select(['username', 'role']).execute();
    expect(users).toEqual([{ username: 'admin', role: 'admin' }]);
    const groups = await database.db.selectFrom('groups').select('name').execute();
    expect(groups).toEqual([{ name: 'system' }]);
  });
});
