import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CofferError, isCofferError } from '../errors/coffer-error.js';
import { assertPackageBuilt } from '../test-support/build-check.js';
import { createCofferFixture } from '../test-support/coffer-fixture.js';
import { loadBackendModules } from './backend-module-loader.js';

// Modules live in a directory outside the packages, with zod installed beside them.
const dir = mkdtempSync(join(tmpdir(), 'coffer-backend-modules-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(
  dirname(fileURLToPath(import.meta.resolve('zod/package.json'))),
  join(dir, 'node_modules', 'zod'),
  'dir',
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeModule(name: string, code: string): string {
  const path = join(dir, name);
  writeFileSync(path, code);
  return path;
}

const definitionCode = (id: string, extra = '') => `
import { z } from 'zod';
const capabilities = { versioning: true, listing: false, labels: false, envelope: false };
export default {
  id: '${id}', displayName: 'Tiny ${id}', description: 'a tiny backend for tests', capabilities,
  configSchema: z.object({ region: z.string().min(2), retries: z.number().int().default(3) }).strict(),
  create: (config, context) => {
    const values = new Map();
    const key = (ref) => ref.secretId + '@' + ref.version;
    return {
      name: context.name, type: '${id}', capabilities,
      put: async (ref, v) => void values.set(key(ref), JSON.stringify(v)),
      get: async (ref) => {
        if (!values.has(key(ref))) throw Object.assign(new Error('no value for ' + key(ref)), { name: 'CofferError', code: 'value_not_found' });
        return JSON.parse(values.get(key(ref)));
      },
      delete: async (ref) => void values.delete(key(ref)),
      list: async () => { throw Object.assign(new Error('cannot list'), { name: 'CofferError', code: 'unsupported' }); },
    };
  },
  ${extra}
};
`;

async function configError(promise: Promise<unknown>): Promise<CofferError> {
  const err = await promise.then(
    () => {
      throw new Error('expected invalid_config');
    },
    (e: unknown) => e,
  );
  expect(isCofferError(err, 'invalid_config'), String(err)).toBe(true);
  return err as CofferError;
}

describe('loading backend modules', () => {
  it('loads a definition from a TypeScript or JavaScript module by absolute or relative path', async () => {
    const ts = writeModule('tiny-ts.ts', definitionCode('tiny-ts'));
    const js = writeModule('tiny-js.mjs', definitionCode('tiny-js'));
    const loaded = await loadBackendModules([ts, './tiny-js.mjs'], { cwd: dir });
    expect(loaded.map((l) => [l.definition.id, l.source])).toEqual([
      ['tiny-ts', ts],
      ['tiny-js', js],
    ]);
  });

  it('loads every definition of a module exporting an array, or named exports', async () => {
    const many = writeModule(
      'many.mjs',
      `import a from './tiny-js.mjs'; export default [ { ...a, id: 'many-a' }, { ...a, id: 'many-b' } ];`,
    );
    const named = writeModule(
      'named.mjs',
      `import a from './tiny-js.mjs'; export const acme = { ...a, id: 'named-a' };`,
    );
    const loaded = await loadBackendModules([many, named]);
    expect(loaded.map((l) => l.definition.id)).toEqual(['many-a', 'many-b', 'named-a']);
  });

  it('reports every broken module at once, naming its index, its path and the field', async () => {
    const missing = join(dir, 'nope.ts');
    const broken = writeModule('broken.ts', 'export default {{ not typescript');
    const empty = writeModule('empty.mjs', 'export const unrelated = 1;');
    const bad = writeModule(
      'bad.mjs',
      `export default { id: 'Bad Id', displayName: '', description: 'x', configSchema: {}, capabilities: { versioning: true, listing: 'yes' }, create: () => null };`,
    );
    const err = await configError(loadBackendModules([missing, broken, empty, bad, 'no-such-package-x']));
    const issues = err.details.issues!;
    const at = (path: string) => issues.filter((i) => i.path === path).map((i) => i.message);
    expect(at('backendModules.0')).toEqual([`module ${missing} does not exist`]);
    expect(at('backendModules.1')[0]).toMatch(new RegExp(`^module ${broken} failed to load: `));
    expect(at('backendModules.2')).toEqual([
      `module ${empty} exports no backend definition (export default defineBackend({ ... }))`,
    ]);
    expect(at('backendModules.3')).toEqual([
      `module ${bad}: id must be lowercase letters, digits and "-", starting with a letter`,
      `module ${bad}: displayName must be a non-empty string`,
      `module ${bad}: configSchema must be a zod schema`,
      `module ${bad}: capabilities.listing must be true or false`,
      `module ${bad}: capabilities.labels must be true or false`,
      `module ${bad}: capabilities.envelope must be true or false`,
    ]);
    expect(at('backendModules.4')[0]).toMatch(/^module no-such-package-x cannot be found from /);
    expect(err.message).toContain('backendModules.3');
  });

  it('outside the test runner, loads JavaScript with Node itself, sharing @coffer/core, and falls back to tsx', async () => {
    // Vitest loads every module itself, so this runs the built package in plain node.
    assertPackageBuilt(fileURLToPath(new URL('../../', import.meta.url)), 'packages/core');
    const core = fileURLToPath(new URL('../../', import.meta.url));
    mkdirSync(join(dir, 'node_modules', '@coffer'), { recursive: true });
    symlinkSync(core, join(dir, 'node_modules', '@coffer', 'core'), 'dir');
    const shares = writeModule(
      'shares-core.mjs',
      `import * as core from '@coffer/core';${definitionCode('shares-core', 'core,')}`,
    );
    writeModule('from-ts.ts', definitionCode('from-ts'));
    const importsTs = writeModule('imports-ts.mjs', `export { default } from './from-ts.ts';`);
    // A module that throws while it runs: reported with its own error, and run once, not again by tsx.
    const throws = writeModule(
      'throws.mjs',
      'globalThis.throwsRuns = (globalThis.throwsRuns ?? 0) + 1; throw new Error("threw while loading");',
    );
    const script = `
      const core = await import(${JSON.stringify(pathToFileURL(join(core, 'dist/index.js')).href)});
      const loaded = await core.loadBackendModules(${JSON.stringify([shares, importsTs])});
      const failed = await core.loadBackendModules(${JSON.stringify([throws])}).catch((err) => err);
      console.log(JSON.stringify({
        loaded: loaded.map((l) => [l.definition.id, l.source]),
        sharesCore: loaded[0].definition.core.CofferError === core.CofferError,
        failed: failed.details.issues.map((i) => i.message),
        throwsRuns: globalThis.throwsRuns,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      loaded: [
        ['shares-core', shares],
        ['from-ts', importsTs],
      ],
      sharesCore: true,
      failed: [`module ${throws} failed to load: threw while loading`],
      throwsRuns: 1,
    });
  });

  describe('at start', () => {
    it('names a module that fails to load, and does not start', async () => {
      const fx = await createCofferFixture('sqlite');
      try {
        const broken = writeModule('broken-at-start.ts', 'throw new Error("the module threw on load");');
        const err = await configError(fx.reopen({}, { backendModules: [broken] }));
        expect(err.details.issues).toEqual([
          { path: 'backendModules.0', message: `module ${broken} failed to load: the module threw on load` },
        ]);
      } finally {
        await fx.close();
      }
    });

    it('serves secrets from a loaded backend, and names backends.<name>.<field> and the module for bad settings', async () => {
      const path = writeModule('tiny-start.ts', definitionCode('tiny'));
      const fx = await createCofferFixture('sqlite');
      try {
        const err = await configError(
          fx.reopen(
            {},
            { backendModules: [path], backends: { t: { type: 'tiny', region: 'x', retries: 1.5 } } },
          ),
        );
        expect(err.details.issues!.map((i) => i.path).sort()).toEqual([
          'backends.t.region',
          'backends.t.retries',
        ]);
        for (const issue of err.details.issues!) expect(issue.message).toContain(`from module ${path}`);

        const dup = await configError(
          fx.reopen(
            {},
            {
              backendModules: [
                writeModule('dup.mjs', `import a from './tiny-js.mjs'; export default { ...a, id: 'file' };`),
              ],
            },
          ),
        );
        expect(dup.message).toContain('two backend definitions share the id "file"');

        const coffer = await fx.reopen(
          {},
          { backendModules: [path], backends: { t: { type: 'tiny', region: 'eu' } }, backend: 't' },
        );
        const s = await coffer.secrets.create(fx.admin.actor, {
          name: 'tiny',
          kind: 'api-token',
          values: { token: 'x' },
        });
        expect((await coffer.secrets.readValues(fx.admin.actor, s.id, { reveal: true })).values.token).toBe(
          'x',
        );
        // its plain errors come out as Coffer's own
        const missing = await coffer.backends
          .get('t')!
          .get({ secretId: s.id, version: 9 })
          .catch((e: unknown) => e);
        expect(isCofferError(missing, 'value_not_found')).toBe(true);
      } finally {
        await fx.close();
      }
    });
  });
});
