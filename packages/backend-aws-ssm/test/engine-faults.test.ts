import { describeCredentialFailures, describeEngineFaults, rejectionOf } from '@coffer/aws-store-kit/testing';
import awsSsm from '@coffer/backend-aws-ssm';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-aws-ssm/double';
import type { BackendDefinition } from '@coffer/core';
import { expect, it } from 'vitest';

// Engine-level faults: a Coffer on SQLite whose active backend is the Parameter Store double.
// The double's request quotas and the write limit are off (the quota tests are in
// backend-behaviour); faults are injected, with few attempts.
const ssm = {
  type: 'aws-ssm',
  definition: awsSsm as BackendDefinition,
  start: () => startStoreDouble({ throttle: false }),
  storedNames: (double: StoreDoubleHandle) => double.faults.parameterNames(),
  keepsDeletedNames: false,
};
const nameOf = (secretId: string, version: number) => `/coffer/${secretId}/v${version}`;

describeEngineFaults(
  { ...ssm, writeOperation: 'PutParameter', serverErrorCode: 'InternalServerError' },
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
      expect(double().faults.removeParameter(nameOf(gone.id, 1))).toBe(true);
      const err = await rejectionOf(coffer.secrets.readValues(admin.actor, gone.id, { reveal: true }));
      errors.push(err);
      expect(err.code).toBe('value_not_found');
      const read = await coffer.secrets.readValues(admin.actor, stays.id, { reveal: true });
      expect(read.values).toEqual({ token: `${planted}-stays` });
      // one version removed of a secret with two
      await coffer.secrets.update(admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
      expect(double().faults.removeParameter(nameOf(stays.id, 1))).toBe(true);
      const old = await rejectionOf(
        coffer.secrets.readValues(admin.actor, stays.id, { reveal: true, version: 1 }),
      );
      expect(old.code).toBe('value_not_found');
      const current = await coffer.secrets.readValues(admin.actor, stays.id, { reveal: true });
      expect(current.values).toEqual({ token: `${planted}-stays-2` });
    });

    it('refuses a value whose owner tags were changed behind its back (integrity)', async () => {
      const { coffer, admin } = fixture();
      const made = await coffer.secrets.create(admin.actor, {
        name: 'retagged',
        kind: 'generic',
        values: { token: `${planted}-retagged` },
      });
      double().faults.setTags(nameOf(made.id, 1), { 'coffer-deployment': 'someone-else' });
      const err = await rejectionOf(coffer.secrets.readValues(admin.actor, made.id, { reveal: true }));
      errors.push(err);
      expect(err.code).toBe('integrity');
    });
  },
);

describeCredentialFailures(ssm);
