import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinKinds, createKindRegistry, isKind, type LoadedKinds, loadKinds } from './index.js';

const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle cx="4" cy="4" r="4"/></svg>';
const kindsIndexUrl = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.ts')).href;

const files: Record<string, string> = {
  // A good JSON kind with a logo file beside it.
  'grafana.json': JSON.stringify({
    id: 'grafana',
    displayName: 'Grafana',
    description: 'A Grafana instance.',
    logo: 'logos/grafana.svg',
    fields: [
      { name: 'url', type: 'string', format: 'url' },
      { name: 'token', type: 'secret' },
    ],
  }),
  'logos/grafana.svg': svg,
  // A good module in form (d): it imports nothing.
  'netbox.ts': `
    interface Kit { defineKind: (o: unknown) => unknown; field: Record<string, (o?: unknown) => unknown> }
    export default ({ defineKind, field }: Kit) =>
      defineKind({
        id: 'netbox',
        displayName: 'NetBox',
        description: 'A NetBox API token.',
        fields: { url: field.string({ format: 'url' }), token: field.secret(), timeout: field.integer({ default: 30 }) },
      });
  `,
  // Form (a): a kind made by another copy of the engine.
  'imported.mts': `
    import { defineKind, field } from '${kindsIndexUrl}';
    export default defineKind({ id: 'imported', displayName: 'Imported', description: '', fields: { a: field.secret() } });
  `,
  // Form (c) of (b): an array of plain definitions, the second one broken.
  'pair.mjs': `
    export default [
      { id: 'pair-good', displayName: 'Good', fields: [{ name: 'a', type: 'string' }] },
      { id: 'pair-bad', displayName: 'Bad', fields: [{ name: 'a', type: 'strng' }] },
    ];
  `,
  // Form (b) from a .js file without a package.json: tsx loads it anyway.
  'plain.js': `export default { id: 'plain', displayName: 'Plain', fields: [{ name: 'a', type: 'boolean', default: false }] };`,
  'broken.json': '{ "id": "broken", "displayName": "Broken", }',
  'bad-field.json': JSON.stringify({
    id: 'bad-field',
    displayName: 'Bad field',
    fields: [
      { name: 'ok', type: 'string' },
      { name: 'mode', type: 'enum', options: ['a', 'b'], default: 'c' },
      { name: 'size', type: 'integr' },
    ],
  }),
  'remote-logo.json': JSON.stringify({
    id: 'remote-logo',
    displayName: 'Remote logo',
    logo: 'https://cdn.example.com/logo.svg',
    fields: [{ name: 'a', type: 'string' }],
  }),
  'escaping-logo.json': JSON.stringify({
    id: 'escaping-logo',
    displayName: 'Escaping logo',
    logo: '../outside.svg',
    fields: [{ name: 'a', type: 'string' }],
  }),
  'smtp.json': JSON.stringify({
    id: 'smtp',
    displayName: 'My SMTP',
    fields: [{ name: 'a', type: 'string' }],
  }),
  'zz-grafana-again.json': JSON.stringify({
    id: 'grafana',
    displayName: 'Grafana again',
    fields: [{ name: 'a', type: 'string' }],
  }),
  'throws.ts': `throw new Error('cannot reach the vault of kinds');\nexport default {};`,
  'no-default.mjs': `export const kind = { id: 'named', displayName: 'Named', fields: [] };`,
  'bad-function.ts': `export default ({ defineKind, field }: any) => defineKind({ id: 'Bad Id', displayName: 'x', description: '', fields: { port: field.integer({ default: 'x' }) } });`,
  // Skipped: helpers, dot-files, declaration files and anything that is not a kind file.
  '_shared.ts': `throw new Error('helpers must not be loaded');`,
  '.hidden.json': '{',
  'types.d.ts': 'export {};',
  'README.md': '# my kinds',
  'notes.txt': 'not a kind',
};

let root: string;
let directory: string;
let loaded: LoadedKinds;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'coffer-kinds-'));
  directory = path.join(root, 'kinds');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(directory, name)), { recursive: true });
    await writeFile(path.join(directory, name), text);
  }
  await writeFile(path.join(root, 'outside.svg'), svg);
  // Kubernetes mounts a ConfigMap as symlinks; a linked file loads like any other.
  await writeFile(
    path.join(root, 'linked-target.json'),
    JSON.stringify({ id: 'linked', displayName: 'Linked', fields: [{ name: 'a', type: 'string' }] }),
  );
  await symlink(path.join(root, 'linked-target.json'), path.join(directory, 'linked.json'));
  loaded = await loadKinds(directory);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function problemsOf(name: string) {
  return loaded.problems.filter((p) => p.file === path.join(directory, name));
}

describe('loadKinds', () => {
  it('loads every good file, in file name order, whatever the bad ones do', () => {
    expect(loaded.kinds.map((k) => k.id)).toEqual([
      'grafana',
      'imported',
      'linked',
      'netbox',
      'pair-good',
      'plain',
    ]);
    expect(loaded.kinds.every((k) => isKind(k))).toBe(true);
  });

  it('records the file each kind came from', () => {
    const sources = Object.fromEntries(loaded.kinds.map((k) => [k.id, k.source]));
    expect(sources).toEqual({
      grafana: path.join(directory, 'grafana.json'),
      imported: path.join(directory, 'imported.mts'),
      linked: path.join(directory, 'linked.json'),
      netbox: path.join(directory, 'netbox.ts'),
      'pair-good': path.join(directory, 'pair.mjs'),
      plain: path.join(directory, 'plain.js'),
    });
  });

  it('gives loaded kinds the full behaviour of a kind', () => {
    const netbox = loaded.kinds.find((k) => k.id === 'netbox');
    expect(netbox?.validate({ url: 'https://netbox.example.com', token: 't', timeout: '45' })).toEqual({
      url: 'https://netbox.example.com',
      token: 't',
      timeout: 45,
    });
    expect(netbox?.isSecretField('token')).toBe(true);
    expect(netbox?.jsonSchema.required).toEqual(['url', 'token', 'timeout']);
    expect(loaded.kinds.find((k) => k.id === 'imported')?.isSecretField('a')).toBe(true);
    expect(loaded.kinds.find((k) => k.id === 'plain')?.validate({})).toEqual({ a: false });
  });

  it('inlines a logo file next to the definition as a data: URI', () => {
    const grafana = loaded.kinds.find((k) => k.id === 'grafana');
    expect(grafana?.logo).toBe(`data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`);
    expect(grafana?.jsonSchema['x-coffer-logo']).toBe(grafana?.logo);
  });

  it('names the file of a JSON syntax error', () => {
    expect(problemsOf('broken.json')).toEqual([
      { file: path.join(directory, 'broken.json'), message: expect.stringMatching(/^invalid JSON: /) },
    ]);
  });

  it('names the file and the field path of every problem in a definition', () => {
    expect(problemsOf('bad-field.json')).toEqual([
      {
        file: path.join(directory, 'bad-field.json'),
        path: 'fields[1].default',
        message: 'the default is not valid for this field: must be one of: a, b',
      },
      {
        file: path.join(directory, 'bad-field.json'),
        path: 'fields[2].type',
        message: 'must be one of: string, text, secret, integer, number, boolean, enum',
      },
    ]);
    expect(problemsOf('pair.mjs')).toEqual([
      {
        file: path.join(directory, 'pair.mjs'),
        path: '[1].fields[0].type',
        message: 'must be one of: string, text, secret, integer, number, boolean, enum',
      },
    ]);
    expect(problemsOf('bad-function.ts').map((p) => p.path)).toEqual(['id', 'fields.port.default']);
  });

  it('refuses remote logos and logo files outside the directory', () => {
    expect(problemsOf('remote-logo.json')).toEqual([
      {
        file: path.join(directory, 'remote-logo.json'),
        path: 'logo',
        message: expect.stringContaining('remote logo URLs are not allowed'),
      },
    ]);
    expect(problemsOf('escaping-logo.json')).toEqual([
      {
        file: path.join(directory, 'escaping-logo.json'),
        path: 'logo',
        message: 'a logo file must be inside the directory of the definition',
      },
    ]);
  });

  it('refuses an id already taken by a built-in kind or an earlier file, naming both', () => {
    expect(problemsOf('smtp.json')).toEqual([
      {
        file: path.join(directory, 'smtp.json'),
        message: 'duplicate kind id "smtp": already defined by the built-in kind; this definition is ignored',
      },
    ]);
    expect(problemsOf('zz-grafana-again.json')).toEqual([
      {
        file: path.join(directory, 'zz-grafana-again.json'),
        message: `duplicate kind id "grafana": already defined by ${path.join(directory, 'grafana.json')}; this definition is ignored`,
      },
    ]);
  });

  it('reports a module that throws on import or exports nothing usable', () => {
    expect(problemsOf('throws.ts')).toEqual([
      {
        file: path.join(directory, 'throws.ts'),
        message: expect.stringContaining('cannot load the module: cannot reach the vault of kinds'),
      },
    ]);
    expect(problemsOf('no-default.mjs')).toEqual([
      { file: path.join(directory, 'no-default.mjs'), message: expect.stringContaining('no default export') },
    ]);
  });

  it('skips helpers, dot-files, declaration files and other files', () => {
    for (const name of ['_shared.ts', '.hidden.json', 'types.d.ts', 'README.md', 'notes.txt']) {
      expect(problemsOf(name)).toEqual([]);
    }
    const reported = new Set(loaded.problems.map((p) => path.basename(p.file)));
    expect([...reported].sort()).toEqual([
      'bad-field.json',
      'bad-function.ts',
      'broken.json',
      'escaping-logo.json',
      'no-default.mjs',
      'pair.mjs',
      'remote-logo.json',
      'smtp.json',
      'throws.ts',
      'zz-grafana-again.json',
    ]);
  });

  it('yields kinds a registry accepts beside the built-in ones', () => {
    const registry = createKindRegistry([...builtinKinds, ...loaded.kinds]);
    expect(registry.list().map((k) => k.id)).toEqual([
      ...builtinKinds.map((k) => k.id),
      'grafana',
      'imported',
      'linked',
      'netbox',
      'pair-good',
      'plain',
    ]);
  });

  it('reports a directory it cannot read instead of throwing', async () => {
    const missing = path.join(root, 'missing');
    expect(await loadKinds(missing)).toEqual({
      kinds: [],
      problems: [{ file: missing, message: 'cannot read the kinds directory: ENOENT' }],
    });
  });

  it('gives up on a module that never finishes loading, and loads the rest', async () => {
    const slow = path.join(root, 'slow');
    await mkdir(slow);
    await writeFile(path.join(slow, 'a-hangs.mjs'), 'await new Promise(() => {});\nexport default {};');
    await writeFile(
      path.join(slow, 'b-ok.json'),
      JSON.stringify({ id: 'ok', displayName: 'OK', fields: [{ name: 'a', type: 'string' }] }),
    );
    const result = await loadKinds(slow, { moduleTimeoutMs: 300 });
    expect(result.kinds.map((k) => k.id)).toEqual(['ok']);
    expect(result.problems).toEqual([
      {
        file: path.join(slow, 'a-hangs.mjs'),
        message: 'cannot load the module: loading the module did not finish within 300 ms',
      },
    ]);
  }, 60_000);

  it('checks ids against the kinds it is given instead of the built-in ones', async () => {
    const again = await loadKinds(directory, { existing: loaded.kinds });
    // smtp is free now; everything that loaded before collides with itself.
    expect(again.kinds.map((k) => k.id)).toEqual(['smtp']);
    expect(again.problems.filter((p) => p.message.startsWith('duplicate kind id "netbox"'))).toHaveLength(1);
  }, 60_000);
});
