import { silentLogger } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import {
  type CloudKmsClientLike,
  createCloudKmsClient,
  GcpKmsKeySource,
  gcpKmsConfigSchema,
} from '@coffer/keysource-gcp-kms';
import { describe, expect, it } from 'vitest';
import { keySourceDefinitions, rejectionOf } from './support.js';

// The same checks against real Google Cloud KMS, when a key is given:
//   COFFER_TEST_GCP_KMS_KEY=projects/P/locations/L/keyRings/R/cryptoKeys/K
// Credentials come from Application Default Credentials. The key needs
// roles/cloudkms.cryptoKeyEncrypterDecrypter; nothing is created, rotated or destroyed.
const keyName = process.env.COFFER_TEST_GCP_KMS_KEY;
if (keyName === undefined || keyName === '') {
  console.log('skipping the real Cloud KMS checks: set COFFER_TEST_GCP_KMS_KEY to a key name to run them');
}
const context = {
  'coffer-deployment': 'contract',
  'coffer-secret': 'contract-secret',
  'coffer-version': '1',
};

describe.skipIf(keyName === undefined || keyName === '')(
  'the gcp-kms key source against real Cloud KMS',
  { timeout: 60_000 },
  () => {
    it('wraps, unwraps and re-wraps data keys only under their additional authenticated data', async () => {
      const config = gcpKmsConfigSchema.parse({ keyName });
      const source = new GcpKmsKeySource(
        createCloudKmsClient(config) as unknown as CloudKmsClientLike,
        config,
        {
          logger: silentLogger(),
          clock: () => new Date(),
        },
      );
      try {
        const current = await source.current();
        expect(current.keyId).toBe(keyName);
        expect(current.keyVersion).toMatch(/^[0-9]+$/);
        const { dataKey, wrapped } = await source.generateDataKey(current, context);
        expect(dataKey.length).toBe(32);
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
      const fx = await createCofferFixture(
        'sqlite',
        { keyring: { source: 'gcp-kms', keyName } as never },
        { keySourceDefinitions },
      );
      try {
        const secret = await fx.coffer.secrets.create(fx.admin.actor, {
          name: 'real-gcp-kms',
          kind: 'generic',
          values: { password: 'real cloud kms contract' },
        });
        const again = await fx.reopen({ keySourceDefinitions });
        const view = await again.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
        expect(view.values.password).toBe('real cloud kms contract');
      } finally {
        await fx.close();
      }
    });
  },
);
