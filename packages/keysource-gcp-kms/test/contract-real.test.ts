import { runRealKmsChecks } from '@coffer/backend-contract';
import gcpKms, {
  type CloudKmsClientLike,
  createCloudKmsClient,
  GcpKmsKeySource,
  gcpKmsConfigSchema,
} from '@coffer/keysource-gcp-kms';
import { expect } from 'vitest';

// The same checks against real Google Cloud KMS, when a key is given:
//   COFFER_TEST_GCP_KMS_KEY=projects/P/locations/L/keyRings/R/cryptoKeys/K
// Credentials come from Application Default Credentials. The key needs
// roles/cloudkms.cryptoKeyEncrypterDecrypter; nothing is created, rotated or destroyed.
const keyName = process.env.COFFER_TEST_GCP_KMS_KEY;

runRealKmsChecks({
  title: 'the gcp-kms key source against real Cloud KMS',
  configured: keyName !== undefined && keyName !== '',
  skipMessage: 'skipping the real Cloud KMS checks: set COFFER_TEST_GCP_KMS_KEY to a key name to run them',
  bindsTo: 'additional authenticated data',
  definition: gcpKms,
  keyring: { source: 'gcp-kms', keyName },
  openSource: (ctx) => {
    const config = gcpKmsConfigSchema.parse({ keyName });
    return new GcpKmsKeySource(createCloudKmsClient(config) as unknown as CloudKmsClientLike, config, ctx);
  },
  checkKey: (current) => {
    expect(current.keyId).toBe(keyName);
    expect(current.keyVersion).toMatch(/^[0-9]+$/);
  },
  secret: { name: 'real-gcp-kms', password: 'real cloud kms contract' },
});
