import { describeCredentialFailures, describeEngineFaults, rejectionOf } from '@coffer/aws-store-kit/testing';
import awsSecretsManager from '@coffer/backend-aws-secrets-manager';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-aws-secrets-manager/double';
import type { BackendDefinition } from '@coffer/core';
import { expect, it } from 'vitest';

// Engine-level faults: a Coffer on SQLite whose active backend is the AWS Secrets Manager double.
// The double's request quotas and the write limit are off (the quota tests are in
// backend-behaviour); faults are injected, with few attempts.
const secretsManager = {
  type: 'aws-secrets-manager',
  definition: awsSecretsManager as BackendDefinition,
  start: () => startStoreDouble({ throttle: false }),
  storedNames: (double: StoreDoubleHandle) => double.faults.secretNames(),
  keepsDeletedNames: true,
};
const nameOf = (secretId: string) => `coffer/${secretId}`;

describeEngineFaults(
  { ...secretsManager, writeOperation: 'PutSecretValue', serverErrorCode: 'InternalServiceError' },
  ({ double, fixture, planted, errors }) => {
    it('reports a value deleted behind its back as value_not_found, for that secret only', async () => {
      const { coffer, admin } = fixture();
      const create = (name: string) =>
        coffer.secrets.create(admin.actor, {
          name,
          kind: 'generic',
          values: { token: `${planted}-${name}` },
        });
      const gone = await create('gone');
      const stays = await create('stays');
      expect(double().faults.removeSecret(nameOf(gone.id))).toBe(true);
      const err = await rejectionOf(coffer.secrets.readValues(admin.actor, gone.id, { reveal: true }));
      errors.push(err);
      expect(err.code).toBe('value_not_found');
      const read = await coffer.secrets.readValues(admin.actor, stays.id, { reveal: true });
      expect(read.values).toEqual({ token: `${planted}-stays` });
      // one version removed from a secret with two
      await coffer.secrets.update(admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
      expect(double().faults.removeVersion(nameOf(stays.id), 'coffer-v1')).toBe(true);
      const old = await rejectionOf(
        coffer.secrets.readValues(admin.actor, stays.id, { reveal: true, version: 1 }),
      );
      expect(old.code).toBe('value_not_found');
      const current = await coffer.secrets.readValues(admin.actor, stays.id, { reveal: true });
      expect(current.values).toEqual({ token: `${planted}-stays-2` });
    });
  },
);

describeCredentialFailures(secretsManager);
