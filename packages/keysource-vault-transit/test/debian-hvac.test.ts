import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bindContext } from '@coffer/keysource-vault-transit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, transitDouble, transitSource } from './support.js';

// Transit on the Vault double driven by a client nobody here wrote: Debian's python3-hvac, with
// its own requests and its own reading of Vault's answers. It opens what Coffer's key source
// wrapped and wraps what the key source opens, so neither side can drift from Transit's API.
const python = '/usr/bin/python3';
const run = promisify(execFile);
const script = fileURLToPath(new URL('./hvac-transit.py', import.meta.url));
const context = { 'coffer-deployment': 'd-1', 'coffer-secret': 's-1', 'coffer-version': '4' };

async function hasHvac(): Promise<boolean> {
  if (!existsSync(python)) return false;
  try {
    await run(python, ['-c', 'import hvac'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const present = await hasHvac();
if (!present) {
  if (process.env.CI === 'true')
    throw new Error(`CI is set but ${python} cannot import hvac (apt install python3-hvac)`);
  console.log(`skipping the hvac Transit checks: ${python} cannot import hvac (apt install python3-hvac)`);
}

describe.skipIf(!present)('Transit through hvac and Coffer on one key (independent client)', () => {
  let vault: Awaited<ReturnType<typeof transitDouble>>;
  beforeAll(async () => {
    vault = await transitDouble();
  });
  afterAll(async () => {
    await vault?.close();
    vault?.restoreEnv();
  });

  it('opens what the other wrapped, rotates, re-wraps and retires the old version', async () => {
    const source = transitSource(vault);
    try {
      const { dataKey, wrapped } = await source.generateDataKey(await source.current(), context);
      const expected = bindContext(dataKey, context).toString('base64');
      const other = randomBytes(32);
      let out: { stdout: string };
      try {
        out = await run(python, [script], {
          timeout: 60_000,
          env: {
            PATH: '/usr/bin:/bin',
            HOME: '/nonexistent',
            VAULT_ADDR: vault.url,
            VAULT_TOKEN: vault.env.VAULT_TOKEN!,
            KEY_NAME: 'coffer',
            COFFER_CIPHERTEXT: wrapped.ciphertext.toString('utf8'),
            COFFER_PLAINTEXT: expected,
            BOUND_PLAINTEXT: bindContext(other, context).toString('base64'),
          },
        });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        throw new Error(`hvac script failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}`);
      }
      const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as {
        ok: boolean;
        made: string;
        rewrapped: string;
      };
      expect(summary.ok).toBe(true);
      const made = { keyId: 'transit/keys/coffer', keyVersion: '1', ciphertext: Buffer.from(summary.made) };
      // hvac's wrap is version 1, which hvac retired: Coffer reports it so.
      expect((await rejectionOf(source.unwrap(made, context))).details).toMatchObject({
        reason: 'key_disabled',
      });
      const rewrapped = {
        keyId: 'transit/keys/coffer',
        keyVersion: '2',
        ciphertext: Buffer.from(summary.rewrapped),
      };
      expect((await source.unwrap(rewrapped, context)).equals(dataKey)).toBe(true);
      expect((await rejectionOf(source.unwrap(rewrapped, { ...context, 'coffer-version': '5' }))).code).toBe(
        'integrity',
      );
      // Coffer's own re-wrap of hvac's wrap lands on version 2 and opens to hvac's key.
      vault.faults.transit().configure('coffer', { min_decryption_version: 1 });
      const moved = await source.rewrap(made, context, await source.current());
      expect(moved.keyVersion).toBe('2');
      expect((await source.unwrap(moved, context)).equals(other)).toBe(true);
    } finally {
      await source.close();
    }
  });
});
