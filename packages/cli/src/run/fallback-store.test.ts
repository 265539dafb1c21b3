import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliError } from '../errors/cli-error.js';
import { FallbackStore, loginIdOf, removeLoginSnapshots } from './fallback-store.js';

const home = mkdtempSync(join(tmpdir(), 'coffer-fallback-store-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const address = 'http://127.0.0.1:8470';
const day = 86_400_000;
const env = { XDG_CACHE_HOME: join(home, 'cache') };
const configDir = join(home, 'config', 'coffer');
const store = (token = 'cfr_one', dir = configDir) =>
  new FallbackStore({ address, token, configDir: dir, env });
const variables = { DB_PASSWORD: 'the planted value', PLAIN: 'x' };

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return (err as CliError).code;
  }
}

describe('FallbackStore', () => {
  it('opens what it sealed, for the same login, run and machine only', () => {
    const s = store();
    const id = s.specId({ env: [['DB_PASSWORD', '{{ db.password }}']] });
    expect(s.read(id, day)).toBeUndefined();
    s.write(id, variables, day, 1_000_000);
    expect(s.read(id, day, 1_000_000 + 1000)).toMatchObject({ variables });
    expect(statSync(s.pathOf(id)).mode & 0o777).toBe(0o600);
    expect(readFileSync(s.pathOf(id), 'utf8')).not.toContain('planted');
    // Another run, another login: another name; the file under another login does not open.
    expect(s.specId({ env: [] })).not.toBe(id);
    expect(loginIdOf(address, 'cfr_two')).not.toBe(loginIdOf(address, 'cfr_one'));
    const other = store('cfr_two');
    const otherId = other.specId({ env: [['DB_PASSWORD', '{{ db.password }}']] });
    mkdirSync(other.dir, { recursive: true });
    copyFileSync(s.pathOf(id), other.pathOf(otherId));
    expect(codeOf(() => other.read(otherId, day, 1_000_000))).toBe('fallback_invalid');
  });

  it('refuses a changed file, a foreign machine key, and an expired snapshot', () => {
    const s = store();
    const id = s.specId('refusals');
    s.write(id, variables, day, 2_000_000);
    const path = s.pathOf(id);
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, original.replace('"writtenAt":"', '"writtenAt":"1'));
    expect(codeOf(() => s.read(id, day, 2_000_000))).toBe('fallback_invalid');
    writeFileSync(path, original);
    // The same token and file, another machine (its own key).
    const elsewhere = store('cfr_one', join(home, 'elsewhere'));
    expect(codeOf(() => elsewhere.read(id, day, 2_000_000))).toBe('fallback_invalid');
    // Older than this run accepts: refused, kept.
    expect(codeOf(() => s.read(id, 1000, 2_000_000 + 5000))).toBe('fallback_expired');
    expect(s.read(id, day, 2_000_000 + 5000)).toBeDefined();
    // Past its own time to live: refused and deleted.
    expect(codeOf(() => s.read(id, 2 * day, 2_000_000 + day))).toBe('fallback_expired');
    expect(s.read(id, day, 2_000_000)).toBeUndefined();
  });

  it('removes every snapshot of a login', () => {
    const s = store('cfr_three');
    s.write(s.specId('a'), variables, day);
    s.write(s.specId('b'), variables, day);
    expect(removeLoginSnapshots(env, address, 'cfr_three')).toBe(true);
    expect(s.read(s.specId('a'), day)).toBeUndefined();
    expect(removeLoginSnapshots(env, address, 'cfr_three')).toBe(false);
  });
});
