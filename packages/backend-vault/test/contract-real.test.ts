import { randomBytes } from 'node:crypto';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import vaultKv, { escapePath, VaultHttp, withVaultEnvironment } from '@coffer/backend-vault';
import { describe, it } from 'vitest';

// The contract against a real Vault or OpenBao, when asked for:
//   COFFER_TEST_VAULT_ADDR       Vault's address (required to run), e.g. http://127.0.0.1:8200
//   COFFER_TEST_VAULT_TOKEN      a token allowed the policy in docs/stores/vault.md (default: VAULT_TOKEN)
//   COFFER_TEST_VAULT_MOUNT      the KV v2 mount (default: secret)
//   COFFER_TEST_VAULT_NAMESPACE  a namespace (Vault Enterprise, OpenBao), optional
//   COFFER_TEST_VAULT_PREFIX     cluster prefix of the test's secrets (default: coffer-ct-<random>)
//   COFFER_TEST_VAULT_CACERT     CA certificate file for https, optional
// Everything the run wrote under its prefix is deleted afterwards.
const address = process.env.COFFER_TEST_VAULT_ADDR;

if (address === undefined || address === '') {
  console.log(
    'skipping the contract against a real Vault: set COFFER_TEST_VAULT_ADDR (and COFFER_TEST_VAULT_TOKEN) to run it',
  );
  describe.skip('backend contract: vault-kv (real Vault; COFFER_TEST_VAULT_ADDR is not set)', () => {
    it('runs only with COFFER_TEST_VAULT_ADDR set', () => {});
  });
} else {
  const token = process.env.COFFER_TEST_VAULT_TOKEN ?? process.env.VAULT_TOKEN ?? '';
  const clusterPrefix = process.env.COFFER_TEST_VAULT_PREFIX ?? `coffer-ct-${randomBytes(4).toString('hex')}`;
  const mount = process.env.COFFER_TEST_VAULT_MOUNT ?? 'secret';
  const namespace = process.env.COFFER_TEST_VAULT_NAMESPACE;
  const caCertFile = process.env.COFFER_TEST_VAULT_CACERT;
  const config = vaultKv.configSchema.parse({
    address,
    mount,
    auth: { method: 'token', tokenEnv: 'COFFER_TEST_VAULT_TOKEN_IN_USE' },
    ...(namespace === undefined ? {} : { namespace }),
    ...(caCertFile === undefined ? {} : { caCertFile }),
  });
  process.env.COFFER_TEST_VAULT_TOKEN_IN_USE = token;

  async function removeEverything(): Promise<void> {
    const full = withVaultEnvironment(config, {});
    const http = new VaultHttp({
      address: full.address!,
      namespace: full.namespace,
      caCertFile: full.caCertFile,
      timeoutMs: 10_000,
    });
    try {
      const list = await http.send({
        method: 'GET',
        path: `${escapePath(mount)}/metadata/${clusterPrefix}/`,
        query: { list: 'true' },
        token,
      });
      const keys = (list.body as { data?: { keys?: string[] } } | undefined)?.data?.keys ?? [];
      for (const key of keys) {
        await http.send({
          method: 'DELETE',
          path: `${escapePath(mount)}/metadata/${clusterPrefix}/${escapePath(key)}`,
          token,
        });
      }
    } finally {
      http.close();
    }
  }

  runBackendContract({
    name: `vault-kv (real Vault at ${address}, prefix ${clusterPrefix})`,
    listEntries: 1000,
    timeoutMs: 1_800_000,
    create: async () => {
      const made = await createContractContext({ name: 'vault', clusterPrefix });
      const backend = await vaultKv.create(config, made.context);
      return {
        backend,
        cleanup: async () => {
          await backend.close?.();
          await removeEverything();
          await made.close();
        },
      };
    },
  });
}
