import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn, rejectionOf, useAwsEnv } from './aws-testing.js';
import { type EngineStore, type FaultableDouble, storeFixture } from './engine-faults.js';

/** What the suite needs of a store's double. */
export interface CredentialFailureDouble extends FaultableDouble {
  faults: FaultableDouble['faults'] & {
    readOnlyCredentials: { accessKeyId: string; secretAccessKey: string };
  };
}

/**
 * Declares the tests every AWS store passes through the engine when its credentials, region or
 * endpoint are wrong: a wrong secret key and an unknown key are `unauthenticated`, a read-only key
 * `permission_denied`, another region and a closed port `unreachable`; each failure leaves no
 * metadata and nothing in the store, and the planted value is in no error and no log line.
 *
 * @example
 * describeCredentialFailures({ type: 'aws-ssm', definition, start, storedNames, keepsDeletedNames: false });
 */
export function describeCredentialFailures<Double extends CredentialFailureDouble>(
  options: EngineStore<Double>,
): void {
  const planted = `PLANTED-credentials-${Math.random().toString(36).slice(2)}`;

  describe(`${options.type} with wrong credentials, region or endpoint`, () => {
    let double: Double;
    beforeAll(async () => {
      double = await options.start();
    });
    afterAll(() => double?.close());

    async function failureWith(env: Record<string, string>, settings: Record<string, unknown>) {
      const restore = useAwsEnv(env);
      const fx = await storeFixture(options, double, settings);
      try {
        const err = await rejectionOf(
          fx.coffer.secrets.create(fx.admin.actor, {
            name: 'denied',
            kind: 'generic',
            values: { token: planted },
          }),
        );
        expect(everythingIn(err)).not.toContain(planted);
        expect(fx.logText()).not.toContain(planted);
        expect(err.code).toBe('backend_unavailable');
        // nothing half-written: no metadata, and the store holds nothing
        expect((await fx.coffer.secrets.list(fx.admin.actor)).items).toEqual([]);
        expect(options.storedNames(double)).toEqual([]);
        return err.details;
      } finally {
        await fx.close();
        restore();
      }
    }

    it('a wrong secret key is unauthenticated (InvalidSignatureException)', async () => {
      const details = await failureWith(
        { ...double.env, AWS_SECRET_ACCESS_KEY: 'not-the-right-secret-key' },
        {},
      );
      expect(details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'InvalidSignatureException' });
    });

    it('an unknown access key is unauthenticated (UnrecognizedClientException)', async () => {
      const details = await failureWith({ ...double.env, AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' }, {});
      expect(details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'UnrecognizedClientException' });
    });

    it('a key without write permission is permission_denied (AccessDeniedException), not unreachable', async () => {
      const { accessKeyId, secretAccessKey } = double.faults.readOnlyCredentials;
      const details = await failureWith(
        { ...double.env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
        {},
      );
      expect(details).toMatchObject({ reason: 'permission_denied', vendorCode: 'AccessDeniedException' });
    });

    it('the wrong region is unreachable (the credential scope names another region)', async () => {
      const details = await failureWith(double.env, { region: 'eu-west-1' });
      expect(details).toMatchObject({ reason: 'unreachable', vendorCode: 'InvalidSignatureException' });
    });

    it('an endpoint nobody listens on is unreachable (ECONNREFUSED, retried)', async () => {
      const details = await failureWith(double.env, { endpoint: 'http://127.0.0.1:9' });
      expect(details).toMatchObject({ reason: 'unreachable', vendorCode: 'ECONNREFUSED', attempts: 3 });
    });
  });
}
