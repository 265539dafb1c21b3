import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type { ValueRef } from '@coffer/core';
import { expect } from 'vitest';

/** A fresh secret id, as Coffer makes them (a lowercase UUID). */
export function newSecretId(): string {
  return randomUUID();
}

/** What a promise rejected with; fails the test when it resolved. */
export async function rejectionOf(promise: Promise<unknown>, what: string): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error(`expected ${what} to fail`);
    },
    (err: unknown) => err,
  );
}

/**
 * Expects a Coffer error with `code`. Checked by shape (name and code), not `instanceof`: a
 * backend module may bring its own copy of `@coffer/core`.
 */
export async function expectCofferError(
  promise: Promise<unknown>,
  code: string,
  what: string,
): Promise<Error> {
  const err = await rejectionOf(promise, what);
  const e = err as { name?: unknown; code?: unknown };
  expect(err, `${what}: expected an Error`).toBeInstanceOf(Error);
  expect(e.name, `${what}: expected a CofferError, got ${inspect(err, { depth: 1 })}`).toBe('CofferError');
  expect(e.code, `${what}: expected code ${code}`).toBe(code);
  return err as Error;
}

/** Everything an error exposes: message, stack, own properties, details and causes, as text. */
export function everythingIn(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    parts.push(String(current));
    parts.push(inspect(current, { depth: 8, showHidden: true, getters: true }));
    if (current instanceof Error && current.stack !== undefined) parts.push(current.stack);
    try {
      parts.push(JSON.stringify(current));
    } catch {
      // circular: inspect above covered it
    }
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

/** Runs `fn` over `items` with at most `limit` running at once. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await fn(item);
      }
    }),
  );
}

/** Every ref a backend lists, page by page. */
export async function listAll(
  list: (options: { secretId?: string; after?: ValueRef; limit?: number }) => Promise<ValueRef[]>,
  options: { secretId?: string; limit: number },
): Promise<ValueRef[]> {
  const all: ValueRef[] = [];
  let after: ValueRef | undefined;
  for (let pages = 0; pages < 1_000_000; pages++) {
    const page = await list({
      limit: options.limit,
      ...(options.secretId === undefined ? {} : { secretId: options.secretId }),
      ...(after === undefined ? {} : { after }),
    });
    expect(page.length, 'a page is never longer than its limit').toBeLessThanOrEqual(options.limit);
    all.push(...page);
    if (page.length < options.limit) return all;
    after = page[page.length - 1];
  }
  throw new Error('listing did not end');
}

/** (secretId, version) order, the order `list` returns refs in. */
export function compareRefs(a: ValueRef, b: ValueRef): number {
  if (a.secretId !== b.secretId) return a.secretId < b.secretId ? -1 : 1;
  return a.version - b.version;
}

export const refKey = (r: ValueRef) => `${r.secretId}@${r.version}`;

/** An ASCII string whose JSON encoding is exactly `bytes` long inside `{"<field>":"..."}`. */
export function asciiOfEncodedSize(field: string, bytes: number): string {
  const overhead = JSON.stringify({ [field]: '' }).length;
  return randomBytes(bytes)
    .toString('base64')
    .slice(0, bytes - overhead);
}

/** Field names and values across scripts, emoji, combining marks, controls and quotes. */
export const unicodeValues = {
  пароль: 'секретное значение',
  密码: '秘密の値と비밀',
  'emoji 🔑': '🔐🗝️ 👩‍👩‍👧‍👦 🏳️‍🌈',
  rtl: 'שלום עולם مرحبا',
  combining: 'e\u0301 n\u0303 a\u030a',
  astral: '𝄞 𝕏 𠜎',
  controls: 'tab\there\nnew line\r\nnul\u0000bell\u0007',
  quotes: `"double" 'single' \`back\` \\backslash\\ {"json":true}`,
  'dots.and/slashes': '../../etc/passwd',
  zeroWidth: 'a\u200bb\u200dc\ufeffd',
} as const;
