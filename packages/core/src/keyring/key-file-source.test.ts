import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import { createLogger, silentLogger } from '../logging/logger.js';
import { systemClock } from '../shared/clock.js';
import { keyFileSource } from './key-file-source.js';
import type { KeySourceContext } from './key-source-types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-keyfile-'));
  dirs.push(dir);
  return dir;
}

const context: KeySourceContext = { logger: silentLogger(), clock: systemClock };

function capturingContext(): { context: KeySourceContext; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } });
  return { context: { logger, clock: systemClock }, lines };
}

async function rejection(promise: Promise<unknown>): Promise<CofferError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    return err as CofferError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(process.platform === 'win32')('key file source', () => {
  it('creates the key file once, 0600 in a 0700 directory, and reuses it', async () => {
    const dataDir = join(tempDir(), 'data');
    const source = keyFileSource({ source: 'file' }, { dataDir });
    const path = join(dataDir, 'keyring.json');
    expect(source.status).toEqual({ type: 'file', path });

    const first = await source.load(context);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]!.key).toHaveLength(32);
    expect(first.currentId).toMatch(/^k-\d{8}-[0-9a-f]{8}$/);

    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(json).toEqual({
      version: 1,
      current: first.currentId,
      keys: [
        { id: first.currentId, key: first.keys[0]!.key.toString('base64'), createdAt: expect.any(String) },
      ],
    });

    const again = await keyFileSource({ source: 'file' }, { dataDir }).load(context);
    expect(again.currentId).toBe(first.currentId);
    expect(again.keys[0]!.key.equals(first.keys[0]!.key)).toBe(true);
    // No temporary files are left behind.
    expect(readdirSync(dataDir)).toEqual(['keyring.json']);
  });

  it('gives two processes creating the file at once the same key', async () => {
    const path = join(tempDir(), 'keyring.json');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => keyFileSource({ source: 'file', path }).load(context)),
    );
    const keys = new Set(results.map((r) => r.keys[0]!.key.toString('hex')));
    expect(keys.size).toBe(1);
  });

  it('warns, naming the path, when the file is readable by others', async () => {
    const path = join(tempDir(), 'keyring.json');
    await keyFileSource({ source: 'file', path }).load(context);
    chmodSync(path, 0o644);
    const { context: capturing, lines } = capturingContext();
    await keyFileSource({ source: 'file', path }).load(capturing);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toContain(path);
    expect(warnings[0].msg).toContain('0644');

    chmodSync(path, 0o600);
    const quiet = capturingContext();
    await keyFileSource({ source: 'file', path }).load(quiet.context);
    expect(quiet.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40)).toHaveLength(0);
  });

  const validKey = Buffer.alloc(32, 7).toString('base64');
  it.each([
    ['not JSON', `{"version":1,"current":"a","keys":[{"id":"a","key":"${validKey}"`, '(root)'],
    [
      'a wrong version',
      { version: 2, current: 'a', keys: [{ id: 'a', key: validKey, createdAt: 'x' }] },
      'version',
    ],
    [
      'a short key',
      { version: 1, current: 'a', keys: [{ id: 'a', key: 'AAAA', createdAt: 'x' }] },
      'keys.0.key',
    ],
    ['no keys', { version: 1, current: 'a', keys: [] }, 'keys'],
    [
      'an unknown current key',
      { version: 1, current: 'b', keys: [{ id: 'a', key: validKey, createdAt: 'x' }] },
      'current',
    ],
    [
      'a duplicate id',
      {
        version: 1,
        current: 'a',
        keys: [
          { id: 'a', key: validKey, createdAt: 'x' },
          { id: 'a', key: validKey, createdAt: 'y' },
        ],
      },
      'keys.1.id',
    ],
    [
      'a bad id',
      { version: 1, current: 'a b', keys: [{ id: 'a b', key: validKey, createdAt: 'x' }] },
      'keys.0.id',
    ],
  ])(
    'refuses a key file with %s, naming the file and the problem but never the key',
    async (_name, content, field) => {
      const path = join(tempDir(), 'keyring.json');
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
      const err = await rejection(keyFileSource({ source: 'file', path }).load(context));
      expect(err.code).toBe('invalid_config');
      expect(err.message).toContain(path);
      expect(err.message).toContain(field);
      expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain(validKey);
      expect(err.cause).toBeUndefined();
    },
  );

  it('reports an unreadable key file without crashing', async () => {
    const dir = tempDir();
    const err = await rejection(keyFileSource({ source: 'file', path: dir }).load(context));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain(dir);
  });

  // procfs refuses new files even to root, so this runs the write path's error handling for real.
  it.runIf(process.platform === 'linux')('reports a key file that cannot be created, naming it', async () => {
    const path = '/proc/self/coffer-keyring.json';
    const err = await rejection(keyFileSource({ source: 'file', path }).load(context));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toMatch(new RegExp(`^key file ${path} cannot be written \\(E[A-Z]+\\)$`));
  });

  it('needs a path or a data directory', () => {
    expect(() => keyFileSource({ source: 'file' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });

  it('rotates by appending a key, making it current, durably', async () => {
    const path = join(tempDir(), 'keyring.json');
    const source = keyFileSource({ source: 'file', path });
    const before = await source.load(context);
    const after = await source.rotate(context);
    expect(after.keys.map((k) => k.id)).toEqual([before.currentId, after.currentId]);
    expect(after.currentId).not.toBe(before.currentId);
    const reread = keyFileSource({ source: 'file', path }).reload!(context);
    expect(reread.currentId).toBe(after.currentId);
    expect(reread.keys[0]!.key.equals(before.keys[0]!.key)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('keeps every key when replicas rotate the same file at once', async () => {
    const path = join(tempDir(), 'keyring.json');
    await keyFileSource({ source: 'file', path }).load(context);
    const rotations = await Promise.all(
      Array.from({ length: 5 }, () => keyFileSource({ source: 'file', path }).rotate(context)),
    );
    const final = keyFileSource({ source: 'file', path }).reload!(context);
    expect(final.keys).toHaveLength(6);
    for (const r of rotations) expect(final.keys.map((k) => k.id)).toContain(r.currentId);
    expect(readdirSync(join(path, '..'))).toEqual(['keyring.json']);
  });
});
