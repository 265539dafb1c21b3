import { silentLogger } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { createVaultTransitKeySource, vaultTransitConfigSchema } from '@coffer/keysource-vault-transit';
import { describe, expect, it } from 'vitest';
import { keySourceDefinitions, rejectionOf } from './support.js';

// The same checks against a real Vault or OpenBao, when asked for:
//   COFFER_TEST_VAULT_ADDR            Vault's address (required to run), e.g. http://127.0.0.1:8200
//   COFFER_TEST_VAULT_TOKEN           a token allowed the policy in docs/keyring.md (default: VAULT_TOKEN)
//   COFFER_TEST_VAULT_TRANSIT_KEY     the Transit key to use (required to run): aes256-gcm96, not derived
//   COFFER_TEST_VAULT_TRANSIT_MOUNT   the Transit mount (default: transit)
//   COFFER_TEST_VAULT_NAMESPACE       a namespace (Vault Enterprise, OpenBao), optional
//   COFFER_TEST_VAULT_CACERT          CA certificate file for https, optional
// Only encrypt, decrypt, rewrap and a read of the key are used: nothing is created, rotated or
// deleted in Vault.
const address = process.env.COFFER_TEST_VAULT_ADDR;
const keyName = process.env.COFFER_TEST_VAULT_TRANSIT_KEY;
const enabled = address !== undefined && address !== '' && keyName !== undefined && keyName !== '';
if (!enabled) {
  console.log(
    'skipping the real Vault Transit checks: set COFFER_TEST_VAULT_ADDR, COFFER_TEST_VAULT_TOKEN and COFFER_TEST_VAULT_TRANSIT_KEY to run them',
  );
}
const token = process.env.COFFER_TEST_VAULT_TOKEN ?? process.env.VAULT_TOKEN ?? '';
const settings = {
  address,
  keyName,
  mount: process.env.COFFER_TEST_VAULT_TRANSIT_MOUNT ?? 'transit',
  auth: { method: 'token', tokenEnv: 'COFFER_TEST_VAULT_TOKEN_IN_USE' },
  ...(process.env.COFFER_TEST_VAULT_NAMESPACE ? { namespace: process.env.COFFER_TEST_VAULT_NAMESPACE } : {}),
  ...(process.env.COFFER_TEST_VAULT_CACERT ? { caCertFile: process.env.COFFER_TEST_VAULT_CACERT } : {}),
};
const env = { COFFER_TEST_VAULT_TOKEN_IN_USE: token };
const context = {
  'coffer-deployment': 'contract',
  'coffer-secret': 'contract-secret',
  'coffer-version': '1',
};

describe.skipIf(!enabled)('the vault-transit key source against a real Vault', { timeout: 60_000 }, () => {
  it('wraps, unwraps and re-wraps data keys only under their context', async () => {
    const config = vaultTransitConfigSchema.parse(settings);
    const source = createVaultTransitKeySource(
      config,
      { logger: silentLogger(), clock: () => new Date() },
      env,
    );
    try {
      const current = await source.current();
      expect(current.keyVersion).toMatch(/^[1-9][0-9]*$/);
      const { dataKey, wrapped } = await source.generateDataKey(current, context);
      expect(dataKey.length).toBe(32);
      expect(wrapped.ciphertext.toString('utf8')).toMatch(/^vault:v[1-9][0-9]*:/);
      expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
      expect((await rejectionOf(source.unwrap(wrapped, { ...context, 'coffer-version': '2' }))).code).toBe(
        'integrity',
      );
      const moved = await source.rewrap(wrapped, context, current);
      expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('runs a whole Coffer on the key: create, reveal, restart, reveal', async () => {
    process.env.COFFER_TEST_VAULT_TOKEN_IN_USE = token;
    const fx = await createCofferFixture(
      'sqlite',
      { keyring: { source: 'vault-transit', ...settings } as never },
      { keySourceDefinitions },
    );
    try {
      const secret = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'real-transit',
        kind: 'generic',
        values: { password: 'real transit contract' },
      });
      const again = await fx.reopen({ keySourceDefinitions });
      const view = await again.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
      expect(view.values.password).toBe('real transit contract');
    } finally {
      await fx.close();
      delete process.env.COFFER_TEST_VAULT_TOKEN_IN_USE;
    }
  });
});
