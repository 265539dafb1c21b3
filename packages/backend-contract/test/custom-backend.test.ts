import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import { asUser, type CofferError, isCofferError, loadBackendModules, storePackages } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { afterAll, describe, expect, it } from 'vitest';

// The custom backend of docs/backends.md, written to a directory outside the packages (as an
// operator keeps it), with `@coffer/core` and `zod` installed beside it, loaded by path.

const root = fileURLToPath(new URL('../../..', import.meta.url));
const source = /```ts backend-module\n([\s\S]*?)```/.exec(
  readFileSync(join(root, 'docs/backends.md'), 'utf8'),
)?.[1];
if (source === undefined) throw new Error('docs/backends.md has no ts backend-module block');

const operatorDir = mkdtempSync(join(tmpdir(), 'coffer-operator-'));
mkdirSync(join(operatorDir, 'node_modules', '@coffer'), { recursive: true });
symlinkSync(join(root, 'packages', 'core'), join(operatorDir, 'node_modules', '@coffer', 'core'), 'dir');
symlinkSync(
  dirname(fileURLToPath(import.meta.resolve('zod/package.json'))),
  join(operatorDir, 'node_modules', 'zod'),
  'dir',
);
const modulePath = join(operatorDir, 'backends', 'acme-kv-backend.ts');
mkdirSync(dirname(modulePath));
writeFileSync(modulePath, source);
afterAll(() => rmSync(operatorDir, { recursive: true, force: true }));

runBackendContract({
  name: 'acme-kv, a custom backend loaded from a module path',
  create: async () => {
    const [loaded] = await loadBackendModules([modulePath]);
    const definition = loaded!.definition;
    const made = await createContractContext({ name: 'acme' });
    const config = definition.configSchema.parse({ namespace: `contract-${randomUUID().slice(0, 8)}` });
    return { backend: await definition.create(config, made.context), cleanup: () => made.close() };
  },
});

describe('a custom backend module', () => {
  it('loads by path, is listed with its config schema, and serves secrets moved into it on start', async () => {
    const fx = await createCofferFixture('sqlite');
    try {
      const { admin } = fx;
      const before = await fx.coffer.secrets.create(admin.actor, {
        name: 'before-the-switch',
        kind: 'api-token',
        values: { token: 'tok-1' },
      });
      await fx.coffer.secrets.update(admin.actor, before.id, { values: { token: 'tok-2' } });
      const coffer = await fx.reopen(
        {},
        {
          backendModules: [modulePath],
          backends: { acme: { type: 'acme-kv', namespace: `team-${randomUUID().slice(0, 8)}` } },
          backend: 'acme',
        },
      );
      await coffer.migration.wait();
      expect(await coffer.migration.status(admin.actor)).toMatchObject({ state: 'done', total: 1, done: 1 });
      const moved = await coffer.secrets.get(admin.actor, before.id);
      expect(moved.backend).toBe('acme');
      for (const [version, token] of [
        [1, 'tok-1'],
        [2, 'tok-2'],
      ] as const) {
        const view = await coffer.secrets.readValues(admin.actor, before.id, { version, reveal: true });
        expect(view.values.token).toBe(token);
      }
      const made = await coffer.secrets.create(admin.actor, {
        name: 'made-in-acme',
        kind: 'basic-auth',
        values: { username: 'u', password: 'p ä 🔑' },
      });
      await coffer.secrets.update(admin.actor, made.id, { values: { password: 'second' } });
      expect((await coffer.secrets.readValues(admin.actor, made.id, { reveal: true })).values).toEqual({
        username: 'u',
        password: 'second',
      });
      expect((await coffer.backends.get('acme')!.list({ secretId: made.id })).map((r) => r.version)).toEqual([
        1, 2,
      ]);

      const { definitions, instances } = await coffer.backends.describe(asUser(admin.id));
      const acme = definitions.find((d) => d.id === 'acme-kv');
      expect(acme).toMatchObject({
        displayName: 'Acme KV',
        source: modulePath,
        capabilities: { versioning: true, listing: true, labels: true, envelope: false },
      });
      expect(acme!.configSchema).toMatchObject({
        type: 'object',
        properties: { namespace: { type: 'string' }, separator: { default: '/' } },
        required: ['namespace'],
      });
      expect(definitions.filter((d) => d.source === 'builtin').map((d) => d.id)).toEqual([
        'sql',
        'file',
        'memory',
      ]);
      // Every store package installed beside Coffer is listed too, loaded on this first ask
      // from its own module.
      const stores = definitions.filter((d) => Object.keys(storePackages).includes(d.id));
      expect(stores.map((d) => d.id).sort()).toEqual(Object.keys(storePackages).sort());
      for (const store of stores) {
        const pkg = storePackages[store.id as keyof typeof storePackages];
        expect(store.source).toContain(`/packages/${pkg.replace('@coffer/', '')}/`);
      }
      expect(instances).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'acme', type: 'acme-kv', active: true, backup: false, secrets: 2 }),
          expect.objectContaining({ name: 'sql', type: 'sql', active: false, secrets: 0 }),
        ]),
      );
    } finally {
      await fx.close();
    }
  });

  it('refuses a value that another deployment wrote into the same store', async () => {
    const [loaded] = await loadBackendModules([modulePath]);
    const definition = loaded!.definition;
    const config = definition.configSchema.parse({ namespace: `shared-${randomUUID().slice(0, 8)}` });
    const ours = await createContractContext({ name: 'acme', clusterPrefix: 'shared' });
    const theirs = await createContractContext({ name: 'acme', clusterPrefix: 'shared' });
    try {
      const writer = await definition.create(config, theirs.context);
      const reader = await definition.create(config, ours.context);
      const ref = { secretId: randomUUID(), version: 1 };
      await writer.put(ref, { token: 'theirs' });
      const err = (await reader.get(ref).catch((e: unknown) => e)) as CofferError;
      expect(err.name).toBe('CofferError');
      expect(err.code).toBe('integrity');
      expect(err.message).toContain(theirs.context.deploymentId);
      expect(err.message).not.toContain('theirs');
    } finally {
      await ours.close();
      await theirs.close();
    }
  });

  it('reports every bad setting at start, naming backends.<name>.<field> and the module', async () => {
    const fx = await createCofferFixture('sqlite');
    try {
      const err = await fx
        .reopen(
          {},
          {
            backendModules: [modulePath],
            backends: { acme: { type: 'acme-kv', namespace: 'Bad Name', extra: 1 } },
          },
        )
        .catch((e: unknown) => e);
      expect(isCofferError(err, 'invalid_config'), String(err)).toBe(true);
      const issues = (err as CofferError).details.issues!;
      expect(issues.map((i) => i.path).sort()).toEqual(['backends.acme', 'backends.acme.namespace']);
      for (const issue of issues) expect(issue.message).toContain(modulePath);
    } finally {
      await fx.close();
    }
  });
});
