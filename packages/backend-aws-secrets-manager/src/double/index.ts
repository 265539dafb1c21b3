import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  type AwsDoubleFaults,
  type AwsDoubleOptions,
  type AwsStoreDoubleHandle,
  awsDoubleDefaults,
  doubleRegionOf,
  type RateQuota,
  startAwsDouble,
} from '@coffer/aws-store-kit/double';
import { SecretsManagerStore } from './sm-store.js';

export {
  AwsError,
  type DoubleCredential,
  type FaultAction,
  FaultPlan,
  verifySigV4,
} from '@coffer/aws-store-kit/double';
export { SecretsManagerStore, secretsManagerQuotas } from './sm-store.js';

/**
 * The request quotas of Secrets Manager (per account and region, per second), after the
 * service's quota page; each group shares one bucket.
 */
export const secretsManagerRateQuotas: Readonly<Record<string, RateQuota>> = Object.freeze({
  GetSecretValue: { group: 'read', perSecond: 10_000 },
  DescribeSecret: { group: 'read', perSecond: 10_000 },
  PutSecretValue: { group: 'write', perSecond: 50 },
  UpdateSecret: { group: 'write', perSecond: 50 },
  UpdateSecretVersionStage: { group: 'write', perSecond: 50 },
  CreateSecret: { group: 'create', perSecond: 50 },
  DeleteSecret: { group: 'delete', perSecond: 50 },
  RestoreSecret: { group: 'restore', perSecond: 50 },
  ListSecrets: { group: 'list', perSecond: 50 },
  ListSecretVersionIds: { group: 'list', perSecond: 50 },
  TagResource: { group: 'tag', perSecond: 50 },
  UntagResource: { group: 'tag', perSecond: 50 },
});

/** Fault injection and state of a running double. */
export interface SecretsManagerFaults extends AwsDoubleFaults {
  /** Deletes a whole secret behind the client's back (no recovery window). */
  removeSecret(name: string): boolean;
  /** Deletes the version carrying `stage` (e.g. `coffer-v2`) behind the client's back. */
  removeVersion(name: string, stage: string): boolean;
  /** Names of the secrets the double holds, pending deletion included. */
  secretNames(): string[];
}

/** What every store double of Coffer hands its tests and the benchmark. */
export type StoreDoubleHandle = AwsStoreDoubleHandle<SecretsManagerFaults>;

/** Where the double runs: `throttle` (default true) enforces Secrets Manager's request quotas. */
export type StoreDoubleOptions = AwsDoubleOptions;

/**
 * Starts a local AWS Secrets Manager on 127.0.0.1 that speaks the service's wire protocol, checks
 * SigV4 signatures and the region, and enforces its documented limits and quotas. It accepts the
 * same test keys and region as the Parameter Store double.
 *
 * @example
 * const double = await startStoreDouble();
 * Object.assign(process.env, double.env);
 * const config = { type: 'aws-secrets-manager', ...double.settings };
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const store = new SecretsManagerStore(doubleRegionOf(options), awsDoubleDefaults.accountId);
  const running = await startAwsDouble(
    {
      targetPrefix: 'secretsmanager.',
      signingService: 'secretsmanager',
      quotas: secretsManagerRateQuotas,
      internalErrorType: 'InternalServiceError',
      readOnlyOperations: ['GetSecretValue', 'DescribeSecret', 'ListSecrets', 'ListSecretVersionIds'],
      handle: (operation, input) => store.handle(operation, input),
    },
    options,
  );
  const raw = new SecretsManagerClient(running.sdkSettings);
  return running.handle<SecretsManagerFaults>({
    async rawPut(name, value) {
      try {
        await raw.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
        await raw.send(new CreateSecretCommand({ Name: name, SecretString: value }));
      }
    },
    faults: {
      removeSecret: (name) => store.removeSecret(name),
      removeVersion: (name, stage) => store.removeVersion(name, stage),
      secretNames: () => store.names(),
    },
    release: () => raw.destroy(),
  });
}
