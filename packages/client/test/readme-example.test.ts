// The README's ten-line example is the heart of docs/sdk.md's complete example, which the docs
// test (packages/core/src/docs-examples.test.ts) runs as a program: so the README's works too.
import { readFileSync } from 'node:fs';
import * as client from '@coffer/client';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const readme = read('../README.md');
const sdk = read('../../../docs/sdk.md');

describe('the README example', () => {
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];

  it('is ten lines', () => {
    expect(example?.trimEnd().split('\n')).toHaveLength(10);
  });

  it('appears line for line in the runnable example of docs/sdk.md', () => {
    const runnable = [...sdk.matchAll(/```ts example\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(runnable.some((block) => block.includes(example!))).toBe(true);
  });

  it('and the docs import only names that @coffer/client exports', () => {
    const missing: string[] = [];
    for (const text of [readme, sdk]) {
      for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@coffer\/client'/g)) {
        for (const raw of m[1]!.split(',')) {
          const name = raw.trim();
          if (name !== '' && !name.startsWith('type ') && !(name in client)) missing.push(name);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
