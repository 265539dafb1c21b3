import { runKeySourceContract } from '@coffer/backend-contract';
import type { CloudKmsDoubleHandle } from '@coffer/keysource-gcp-kms/double';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { keySourceDefinitions, kmsDouble, kmsKeyring } from './support.js';

// A whole Coffer on SQLite whose keyring is a Cloud KMS key in the double, through the key
// source contract every KMS key source passes: sealing and revealing, the cache of unwrapped
// data keys, rotation (a new primary version), outages, missing and disabled keys, tampering
// (Cloud KMS refuses a changed ciphertext or another secret's additional authenticated data
// with INVALID_ARGUMENT), and the move from the key file.

function sdkClient(kms: CloudKmsDoubleHandle): KeyManagementServiceClient {
  const url = new URL(kms.url);
  return new KeyManagementServiceClient({
    fallback: 'rest',
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    projectId: 'coffer-double',
  });
}

/** How many versions the key has, and its primary (the double's state). */
function keyVersions(kms: CloudKmsDoubleHandle): { count: number; current: string } {
  const listed = kms.faults.store.listVersions(kms.keyName, new URLSearchParams(), { intEnums: false });
  return { count: Number(listed.totalSize), current: String(kms.faults.store.primaryOf(kms.keyName)) };
}

runKeySourceContract({
  name: 'gcp-kms on the Cloud KMS double',
  definition: keySourceDefinitions[0]!,
  rotates: true,
  kekIdPattern: /^gcp-kms\.[0-9a-f]{12}\.1$/,
  tamper: [
    {
      what: "a byte of Cloud KMS's ciphertext",
      change(blob, wrappedEnd) {
        blob[wrappedEnd - 5]! ^= 0x40;
      },
      details: { vendorCode: 'INVALID_ARGUMENT' },
    },
  ],
  vendorDetails: {
    moved: { vendorCode: 'INVALID_ARGUMENT' },
    disabledKey: { vendorCode: 'FAILED_PRECONDITION' },
  },
  async start() {
    const kms = await kmsDouble();
    const client = sdkClient(kms);
    const ring = kms.keyName.replace(/\/cryptoKeys\/coffer$/, '');
    const missing = `${ring}/cryptoKeys/not-there`;
    return {
      keyring: (extra) => kmsKeyring(kms, extra),
      configuredKey: kms.keyName,
      keyId: kms.keyName,
      // Cloud KMS has no re-wrap call: a re-wrap is a Decrypt and an Encrypt.
      operations: { wrap: 'Encrypt', unwrap: 'Decrypt' },
      requestCount: (rpc) => kms.faults.requestCount(rpc),
      resetCounts: () => kms.faults.resetCounts(),
      keyVersions: () => keyVersions(kms),
      slowDown: (rpc, ms) => kms.faults.inject({ kind: 'delay', ms }, { count: 10_000, rpc }),
      stop: () => kms.stop(),
      async restart() {
        await kms.start();
        kms.faults.clear();
      },
      missingKey: () => ({ settings: { keyName: missing }, keyId: missing }),
      async addKey(name) {
        const [key] = await client.createCryptoKey({
          parent: ring,
          cryptoKeyId: name,
          cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
        });
        return {
          settings: { keyName: key.name },
          external: { keyId: key.name!, keyVersion: '1' },
          async disable() {
            // the primary version: Cloud KMS keys are enabled or disabled version by version
            await client.updateCryptoKeyVersion({
              cryptoKeyVersion: { name: `${key.name}/cryptoKeyVersions/1`, state: 'DISABLED' },
              updateMask: { paths: ['state'] },
            });
          },
        };
      },
      async close() {
        await client.close();
        await kms.close();
        kms.restoreEnv();
      },
    };
  },
});
