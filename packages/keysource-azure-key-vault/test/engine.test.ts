import { runKeySourceContract } from '@coffer/backend-contract';
import { keySourceDefinitions, sdkClients, vaultDouble, vaultKeyring } from './support.js';

// A whole Coffer on SQLite whose keyring is an Azure Key Vault RSA key in the double, through
// the key source contract every KMS key source passes: sealing and revealing, the cache of
// unwrapped data keys, rotation (a new key version), outages, missing and disabled keys, the
// move from the key file, and tampering. Key Vault's RSA wrap knows nothing of contexts, so the
// source binds a data key to its context with a tag after the wrap: a changed tag, and another
// secret's whole wrapped key (which Key Vault unwraps happily), fail on that tag.

runKeySourceContract({
  name: 'azure-key-vault on the Key Vault double',
  definition: keySourceDefinitions[0]!,
  rotates: true,
  kekIdPattern: /^azure-key-vault\.[0-9a-f]{12}\.[0-9a-f]{16}$/,
  tamper: [
    {
      // the wrapped data key ends with the 32-byte context tag
      what: 'a byte of the context tag',
      change(blob, wrappedEnd) {
        blob[wrappedEnd - 5]! ^= 0x40;
      },
      details: { vendorCode: 'ContextMismatch' },
    },
    {
      what: "a byte of Key Vault's RSA wrap",
      change(blob, wrappedEnd) {
        blob[wrappedEnd - 32 - 40]! ^= 0x40;
      },
      details: { vendorCode: 'BadParameter' },
    },
  ],
  vendorDetails: {
    moved: { vendorCode: 'ContextMismatch' },
    missingKey: { vendorCode: 'KeyNotFound' },
    disabledKey: { vendorCode: 'KeyDisabled' },
  },
  // RSA wraps are slow; 30 secrets still put the outage well inside the re-wrap.
  rewrapSecrets: 30,
  async start() {
    const vault = await vaultDouble();
    const { keys } = sdkClients(vault);
    return {
      keyring: (extra) => vaultKeyring(vault, extra),
      configuredKey: vault.keyId,
      keyId: vault.keyId,
      // Key Vault has no re-wrap call: a re-wrap is an UnwrapKey and a WrapKey.
      operations: { wrap: 'WrapKey', unwrap: 'UnwrapKey' },
      requestCount: (operation) => vault.faults.requestCount(operation),
      resetCounts: () => vault.faults.resetCounts(),
      keyVersions() {
        const versions = vault.faults.store.versionsOf('coffer');
        return { count: versions.length, current: versions.at(-1)! };
      },
      slowDown: (operation, ms) => vault.faults.inject({ kind: 'delay', ms }, { count: 10_000, operation }),
      stop: () => vault.stop(),
      async restart() {
        await vault.start();
        vault.faults.clear();
      },
      missingKey: () => ({ settings: { keyName: 'not-there' }, keyId: `${vault.url}/keys/not-there` }),
      async addKey(name) {
        const key = await keys.createRsaKey(name, { keySize: 2048 });
        const version = key.properties.version!;
        return {
          settings: { keyName: name },
          external: { keyId: `${vault.url}/keys/${name}`, keyVersion: version },
          async disable() {
            await keys.updateKeyProperties(name, version, { enabled: false });
          },
        };
      },
      async close() {
        await vault.close();
        vault.restoreEnv();
      },
    };
  },
});
