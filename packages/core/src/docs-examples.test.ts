import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as core from './index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const docsDir = join(root, 'docs');
const docs = readdirSync(docsDir).filter((f) => f.endsWith('.md'));

/** Code blocks whose info string is `ts example`: complete programs the docs promise work. */
function examples(markdown: string): string[] {
  return [...markdown.matchAll(/```ts example\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('docs', () => {
  it('import only names that @coffer/core exports', () => {
    const missing: string[] = [];
    for (const doc of [...docs.map((d) => join(docsDir, d)), join(root, 'README.md')]) {
      let text: string;
      try {
        text = readFileSync(doc, 'utf8');
      } catch {
        continue;
      }
      for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@coffer\/core'/g)) {
        for (const raw of m[1]!.split(',')) {
          const name = raw.replace(/^\s*type\s+/, '').trim();
          // type-only names vanish at runtime; they are checked by tsc where examples run
          if (name === '' || /^type\s/.test(raw.trim())) continue;
          if (!(name in core)) missing.push(`${doc}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  for (const doc of docs) {
    const blocks = examples(readFileSync(join(docsDir, doc), 'utf8'));
    blocks.forEach((code, i) => {
      it(`${doc}: example ${i + 1} runs as written`, () => {
        // Under the repository's node_modules, so '@coffer/core' resolves as for a user
        // (to the built package: npm test builds first).
        const dir = join(root, 'node_modules', '.cache', 'coffer-docs');
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `${doc.replace(/\W/g, '-')}-${i + 1}.mts`);
        writeFileSync(file, code);
        const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: dir, encoding: 'utf8' });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
      });
    });
  }
});
