import { runRealKmsChecks } from '@coffer/backend-contract';
import vaultTransit, {
  createVaultTransitKeySource,
  vaultTransitConfigSchema,
} from '@coffer/keysource-vault-transit';
import { expect } from 'vitest';

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

runRealKmsChecks({
  title: 'the vault-transit key source against a real Vault',
  configured: address !== undefined && address !== '' && keyName !== undefined && keyName !== '',
  skipMessage:
    'skipping the real Vault Transit checks: set COFFER_TEST_VAULT_ADDR, COFFER_TEST_VAULT_TOKEN and COFFER_TEST_VAULT_TRANSIT_KEY to run them',
  bindsTo: 'context',
  definition: vaultTransit,
  keyring: { source: 'vault-transit', ...settings },
  openSource: (ctx) => createVaultTransitKeySource(vaultTransitConfigSchema.parse(settings), ctx, env),
  checkKey: (current) => expect(current.keyVersion).toMatch(/^[1-9][0-9]*$/),
  checkWrapped: (wrapped) => expect(wrapped.ciphertext.toString('utf8')).toMatch(/^vault:v[1-9][0-9]*:/),
  secret: { name: 'real-transit', password: 'real transit contract' },
  env,
});
