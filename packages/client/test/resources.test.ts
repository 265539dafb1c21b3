// Every resource family of the client against the real server process. The tests of a block
// run in order and build on each other.
import { type CofferClient, createClient, isCofferApiError, MASK, paginate } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, createMember, startCoffer, type TestCoffer } from './support/coffer-server.js';

let coffer: TestCoffer;
let admin: CofferClient;
let member: Awaited<ReturnType<typeof createMember>>;

beforeAll(async () => {
  coffer = await startCoffer();
  admin = coffer.admin;
  member = await createMember(coffer, 'grace');
});
afterAll(() => cleanupServers());

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('secrets', () => {
  let id: string;

  it('create, get, list', async () => {
    const created = await admin.secrets.create({
      name: 'mail',
      kind: 'smtp',
      description: 'outgoing mail',
      labels: { env: 'prod' },
      values: { host: 'smtp.example.com', username: 'mailer', password: 'pw-one' },
    });
    id = created.id;
    expect(created).toMatchObject({ name: 'mail', kind: 'smtp', currentVersion: 1, labels: { env: 'prod' } });
    expect(await admin.secrets.get('mail')).toMatchObject({ id, currentVersion: 1 });
    const page = await admin.secrets.list({ label: 'env=prod', kind: 'smtp' });
    expect(page.items.map((s) => s.name)).toEqual(['mail']);
    expect(page.nextCursor).toBeNull();
    expect((await admin.secrets.list({ label: ['env=prod', 'env=dev'] })).items).toEqual([]);
  });

  it('values: masked unless revealed; older versions', async () => {
    const masked = await admin.secrets.values('mail');
    expect(masked).toMatchObject({ secretId: id, version: 1, revealed: false, maskedFields: ['password'] });
    expect(masked.values.password).toBe(MASK);
    expect(masked.values.port).toBe(587);
    const revealed = await admin.secrets.values(id, { reveal: true });
    expect(revealed.values.password).toBe('pw-one');

    await admin.secrets.updateValues('mail', { values: { password: 'pw-two' } });
    expect((await admin.secrets.values('mail', { reveal: true, version: 1 })).values.password).toBe('pw-one');
    expect((await admin.secrets.values('mail', { reveal: true })).values.password).toBe('pw-two');
  });

  it('updateValues keeps a field sent back as the mask, and removes removeKeys', async () => {
    const generic = await admin.secrets.create({ name: 'bag', kind: 'generic', values: { a: 'x', b: 'y' } });
    const { b: _removed, ...masked } = (await admin.secrets.values('bag')).values;
    expect(masked.a).toBe(MASK);
    const updated = await admin.secrets.updateValues(
      'bag',
      { values: { ...masked, c: 'z' }, removeKeys: ['b'] },
      { ifVersion: generic.currentVersion },
    );
    expect(updated.currentVersion).toBe(2);
    expect((await admin.secrets.values('bag', { reveal: true })).values).toEqual({ a: 'x', c: 'z' });
  });

  it('updateMetadata, rename, versions, rollback', async () => {
    const meta = await admin.secrets.updateMetadata('mail', {
      description: 'mail out',
      labels: { env: 'dev' },
    });
    expect(meta).toMatchObject({ description: 'mail out', labels: { env: 'dev' } });
    const renamed = await admin.secrets.rename('mail', 'smtp-main', { ifVersion: meta.currentVersion });
    expect(renamed).toMatchObject({ id, name: 'smtp-main' });
    const versions = await admin.secrets.versions('smtp-main');
    expect(versions.items.map((v) => v.version)).toEqual([2, 1]);
    expect(versions.items[0]).toMatchObject({ current: true, changedFields: ['password'] });
    const firstPage = await admin.secrets.versions('smtp-main', { limit: 1 });
    expect(firstPage.items).toHaveLength(1);
    expect(
      await all(paginate((page) => admin.secrets.versions('smtp-main', page), { limit: 1 })),
    ).toHaveLength(2);
    const rolledBack = await admin.secrets.rollback('smtp-main', 1, { ifVersion: 2 });
    expect(rolledBack.currentVersion).toBe(3);
    expect((await admin.secrets.values('smtp-main', { reveal: true })).values.password).toBe('pw-one');
  });

  it('delete, restore, purge, deleteAll', async () => {
    const deleted = await admin.secrets.delete('smtp-main');
    expect(deleted.deletedAt).not.toBeNull();
    expect((await admin.secrets.list({ state: 'deleted' })).items.map((s) => s.id)).toContain(id);
    // The name is free at once; restoring then needs a new name.
    await admin.secrets.create({ name: 'smtp-main', kind: 'generic', values: { a: '1' } });
    const restored = await admin.secrets.restore(id, { newName: 'smtp-restored' });
    expect(restored).toMatchObject({ name: 'smtp-restored', deletedAt: null });
    await admin.secrets.delete('smtp-restored');
    await admin.secrets.purge(id);
    expect(isCofferApiError(await admin.secrets.get(id).catch((e) => e), 'not_found')).toBe(true);

    const own = await member.client.secrets.create({ name: 'grace-1', kind: 'generic', values: { a: '1' } });
    await member.client.secrets.create({ name: 'grace-2', kind: 'generic', values: { a: '1' } });
    expect(await member.client.secrets.deleteAll({ confirm: 'delete-all' })).toEqual({ deleted: 2 });
    expect((await member.client.secrets.get(own.id)).deletedAt).not.toBeNull();
    const restored2 = await member.client.secrets.restore(own.id);
    expect(restored2.deletedAt).toBeNull();
  });

  it('test: a connection test of an API token against this very server', async () => {
    await admin.secrets.create({
      name: 'self-api',
      kind: 'api-token',
      values: { baseUrl: `${coffer.url}/healthz`, token: 'not-needed' },
    });
    const result = await admin.secrets.test('self-api');
    expect(result.kind).toBe('api-token');
    expect(typeof result.ok).toBe('boolean');
    expect(typeof result.durationMs).toBe('number');
    const err = await admin.secrets.test('bag').catch((e: unknown) => e);
    expect(isCofferApiError(err, 'unsupported')).toBe(true);
  });
});

describe('shares', () => {
  it('grant, list, revoke', async () => {
    await admin.secrets.create({ name: 'shared', kind: 'generic', values: { k: 'v' } });
    expect(isCofferApiError(await member.client.secrets.get('shared').catch((e) => e), 'not_found')).toBe(
      true,
    );
    const share = await admin.shares.grant('shared', { granteeType: 'user', granteeId: member.id });
    expect(share).toMatchObject({
      granteeType: 'user',
      granteeId: member.id,
      level: 'read',
      granteeName: 'grace',
    });
    expect((await member.client.secrets.values('shared', { reveal: true })).values).toEqual({ k: 'v' });
    expect((await admin.shares.list('shared')).items.map((s) => s.granteeId)).toEqual([member.id]);
    await admin.shares.revoke('shared', 'user', member.id);
    expect((await admin.shares.list('shared')).items).toEqual([]);
    expect(isCofferApiError(await member.client.secrets.get('shared').catch((e) => e), 'not_found')).toBe(
      true,
    );
  });
});

describe('kinds', () => {
  it('list, iterate, get', async () => {
    const page = await admin.kinds.list();
    expect(page.items.map((k) => k.id)).toContain('smtp');
    const kinds = await all(admin.kinds.iterate({ limit: 3 }));
    expect(kinds.map((k) => k.id)).toEqual(page.items.map((k) => k.id));
    const smtp = await member.client.kinds.get('smtp');
    expect(smtp.fields.find((f) => f.name === 'password')).toMatchObject({ secret: true });
    expect(smtp.jsonSchema).toBeTypeOf('object');
  });
});

describe('users', () => {
  it('create, get, list, iterate, update, setPassword, endSessions', async () => {
    const bot = await admin.users.create({ username: 'deploy-bot', type: 'service_account' });
    expect(bot).toMatchObject({ type: 'service_account', hasPassword: false });
    expect((await admin.users.get(bot.id)).username).toBe('deploy-bot');
    expect((await admin.users.list({ query: 'deploy' })).items.map((u) => u.id)).toEqual([bot.id]);
    const everyone = await all(admin.users.iterate({ limit: 1 }));
    expect(everyone.map((u) => u.username)).toEqual(['admin', 'deploy-bot', 'grace']);
    expect((await admin.users.update(bot.id, { displayName: 'Deploy bot' })).displayName).toBe('Deploy bot');
    await admin.users.update(bot.id, { disabled: true });
    expect((await admin.users.list({ includeDisabled: false })).items.map((u) => u.username)).not.toContain(
      'deploy-bot',
    );
    expect((await admin.users.list({ includeDisabled: true })).items.map((u) => u.username)).toContain(
      'deploy-bot',
    );

    const session = createClient({ baseUrl: coffer.url });
    await session.auth.login({ username: 'grace', password: member.password });
    expect((await member.client.users.endSessions(member.id)).ended).toBeGreaterThanOrEqual(1);
    expect(isCofferApiError(await session.auth.me().catch((e) => e), 'unauthenticated')).toBe(true);
    await member.client.users.setPassword(member.id, {
      currentPassword: member.password,
      newPassword: 'grace has a new long password',
    });
    await session.auth.login({ username: 'grace', password: 'grace has a new long password' });
    expect((await session.auth.me()).user.username).toBe('grace');
  });
});

describe('groups', () => {
  it('create, list, iterate, get, update, members, add and remove, delete', async () => {
    const ops = await admin.groups.create({ name: 'ops', description: 'operations' });
    expect(ops).toMatchObject({ name: 'ops', builtin: false, memberCount: 0 });
    await admin.groups.addMember(ops.id, member.id);
    await admin.groups.addMember(ops.id, member.id); // idempotent
    expect((await admin.groups.get(ops.id)).members.map((m) => m.username)).toEqual(['grace']);
    expect((await admin.groups.members(ops.id)).items.map((m) => m.userId)).toEqual([member.id]);
    expect((await admin.groups.list({ query: 'op' })).items.map((g) => g.name)).toEqual(['ops']);
    expect((await all(admin.groups.iterate({ limit: 1 }))).map((g) => g.name)).toEqual(['ops', 'system']);
    expect((await admin.groups.update(ops.id, { description: 'ops team' })).description).toBe('ops team');
    await admin.groups.removeMember(ops.id, member.id);
    expect((await admin.groups.get(ops.id)).memberCount).toBe(0);
    await admin.groups.delete(ops.id);
    expect(isCofferApiError(await admin.groups.get(ops.id).catch((e) => e), 'not_found')).toBe(true);
    const system = (await admin.groups.list({ query: 'system' })).items[0]!;
    expect(isCofferApiError(await admin.groups.delete(system.id).catch((e) => e), 'conflict')).toBe(true);
  });
});

describe('tokens', () => {
  it('create, list, iterate, revoke', async () => {
    const created = await member.client.tokens.create({ name: 'laptop', scope: 'read-only' });
    expect(created.token).toMatch(/^cfr_/);
    expect(created.info).toMatchObject({ name: 'laptop', scope: 'read-only', state: 'active' });
    const mine = await member.client.tokens.list();
    expect(mine.items.map((t) => t.name).sort()).toEqual(['laptop', 'tests']);
    expect(JSON.stringify(mine)).not.toContain(created.token);
    expect((await all(member.client.tokens.iterate({ limit: 1 }))).length).toBe(2);
    expect((await member.client.tokens.revoke(created.info.id)).state).toBe('revoked');
    expect((await member.client.tokens.list()).items.map((t) => t.name)).toEqual(['tests']);
    expect((await member.client.tokens.list({ includeInactive: true })).items).toHaveLength(2);
    expect((await admin.tokens.list({ userId: member.id, includeInactive: true })).items).toHaveLength(2);
  });
});

describe('audit', () => {
  it('query, iterate, verify, export', async () => {
    const reveals = await admin.audit.query({ action: 'secret.reveal', limit: 2 });
    expect(reveals.items).toHaveLength(2);
    expect(reveals.items[0]!.seq).toBeGreaterThan(reveals.items[1]!.seq);
    expect(reveals.nextCursor).not.toBeNull();
    const allReveals = await all(admin.audit.iterate({ action: 'secret.reveal', limit: 2 }));
    expect(allReveals.length).toBeGreaterThan(2);
    expect(new Set(allReveals.map((r) => r.seq)).size).toBe(allReveals.length);
    expect(await admin.audit.verify()).toMatchObject({ ok: true });

    const exported = await all(admin.audit.export({ action: 'secret.reveal' }));
    expect(exported.map((r) => r.seq)).toEqual(allReveals.map((r) => r.seq).reverse());
    const lines = await all(admin.audit.exportLines({ action: 'secret.create' }));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!)).toMatchObject({ action: 'secret.create' });
    // Stopping early is fine.
    for await (const record of admin.audit.export()) {
      expect(record.seq).toBe(1);
      break;
    }
  });

  it('export refuses a member before streaming anything', async () => {
    const err = await all(member.client.audit.export()).catch((e: unknown) => e);
    expect(isCofferApiError(err, 'forbidden')).toBe(true);
  });
});

describe('backends, migration, keyring', () => {
  it('backends: list, definitions, get', async () => {
    const backends = await admin.backends.list();
    expect(backends.items.find((b) => b.active)?.name).toBe('sql');
    expect((await admin.backends.definitions()).items.map((d) => d.id)).toContain('sql');
    expect((await admin.backends.get('sql')).capabilities).toBeTypeOf('object');
    expect(isCofferApiError(await admin.backends.get('nope').catch((e) => e), 'not_found')).toBe(true);
  });

  it('migration: status, start, failures, dropKeptSources', async () => {
    expect((await admin.migration.status()).state).toMatch(/idle|done/);
    const started = await admin.migration.start();
    expect(started.target).toBe('sql');
    expect((await admin.migration.failures()).items).toEqual([]);
    expect((await admin.migration.dropKeptSources()).dropped).toBe(0);
  });

  it('keyring: status, rotate', async () => {
    const before = await admin.keyring.status();
    expect(before.source.type).toBe('file');
    expect(before.canRotate).toBe(true);
    const key = await admin.keyring.rotate();
    expect(key.current).toBe(true);
    const after = await admin.keyring.status();
    expect(after.currentKeyId).toBe(key.id);
    expect(after.keys).toHaveLength(before.keys.length + 1);
  });

  it('are for admins only', async () => {
    for (const call of [
      () => member.client.keyring.status(),
      () => member.client.backends.list(),
      () => member.client.migration.status(),
      () => member.client.audit.verify(),
    ]) {
      expect(isCofferApiError(await call().catch((e) => e), 'forbidden')).toBe(true);
    }
  });
});

describe('request', () => {
  it('calls any operation by its name, typed', async () => {
    const page = await admin.request('GET /secrets', { query: { namePrefix: 'sha', limit: 5 } });
    expect(page.items.map((s) => s.name)).toEqual(['shared']);
    const one = await admin.request('GET /secrets/{ref}', { path: { ref: 'shared' } });
    expect(one.name).toBe('shared');
  });
});
