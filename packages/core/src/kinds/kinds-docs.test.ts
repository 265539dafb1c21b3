import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinKinds, type Kind, loadKinds } from './index.js';

// docs/kinds.md is what operators copy from; these tests keep it true.
const docPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/kinds.md');
const EXAMPLE = /<!-- kinds-example: ([\w.-]+) -->\n```\w*\n([\s\S]*?)\n```/g;

let doc: string;
let directory: string;

beforeAll(async () => {
  doc = await readFile(docPath, 'utf8');
  directory = await mkdtemp(path.join(tmpdir(), 'coffer-kinds-docs-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

// The cells of the row the built-in kinds table should have for a kind.
function tableRow(kind: Kind): string[] {
  const mark = (name: string) => `\`${name}\``;
  const fields = kind.freeForm
    ? 'any names (at most 100)'
    : kind.fields
        .map((f) =>
          mark(`${f.name}${f.default !== undefined ? `=${f.default}` : ''}${f.required ? '' : '?'}`),
        )
        .join(', ');
  const secret = kind.freeForm
    ? 'all'
    : kind.fields
        .filter((f) => f.secret)
        .map((f) => mark(f.name))
        .join(', ');
  return [mark(kind.id), kind.displayName, fields, secret];
}

// Table rows as cells, whatever padding the formatter gave them.
function tableRows(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim())
        .join(' | '),
    );
}

describe('docs/kinds.md', () => {
  it('lists every built-in kind with its fields and secret fields as they are', () => {
    const rows = new Set(tableRows(doc));
    const missing = builtinKinds.map((kind) => tableRow(kind).join(' | ')).filter((row) => !rows.has(row));
    expect(
      missing,
      `update the table in docs/kinds.md with:\n${missing.map((r) => `| ${r} |`).join('\n')}`,
    ).toEqual([]);
  });

  it('lists the default rotation interval of every built-in kind as it is', () => {
    const rows = new Set(tableRows(doc));
    const missing = builtinKinds
      .map(
        (kind) =>
          `\`${kind.id}\` | ${kind.rotateEveryDays === null ? 'none' : `${kind.rotateEveryDays} days`}`,
      )
      .filter((row) => !rows.has(row));
    expect(missing, `update the rotation table in docs/kinds.md with:\n${missing.join('\n')}`).toEqual([]);
  });

  it('has examples that load without a problem', async () => {
    const examples = [...doc.matchAll(EXAMPLE)].map(([, name, text]) => [name ?? '', text ?? ''] as const);
    expect(examples.map(([name]) => name)).toEqual(['grafana.json', 'grafana.svg', 'netbox.ts']);
    for (const [name, text] of examples) await writeFile(path.join(directory, name), text);

    const { kinds, problems } = await loadKinds(directory);
    expect(problems).toEqual([]);
    const [grafana, netbox] = kinds;
    expect(kinds.map((k) => k.id)).toEqual(['grafana', 'netbox']);
    expect(grafana?.logo).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(grafana?.fields.filter((f) => f.secret).map((f) => f.name)).toEqual(['token']);
    expect(grafana?.validate({ url: 'https://grafana.example.com', token: 'glsa_x' })).toEqual({
      url: 'https://grafana.example.com',
      token: 'glsa_x',
      orgId: 1,
    });
    expect(netbox?.validate({ url: 'https://netbox.example.com', token: 't', verifyTls: 'false' })).toEqual({
      url: 'https://netbox.example.com',
      token: 't',
      verifyTls: false,
      timeoutSeconds: 30,
    });
  }, 60_000);
});
