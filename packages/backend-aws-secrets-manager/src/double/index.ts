import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { DoubleCredential } from './sigv4-verifier.js';
import { type FaultAction, FaultPlan, startSecretsManagerServer } from './sm-server.js';
import { SecretsManagerStore } from './sm-store.js';

export { type DoubleCredential, verifySigV4 } from './sigv4-verifier.js';
export { AwsError } from './sm-errors.js';
export { type FaultAction, FaultPlan } from './sm-server.js';
export { SecretsManagerStore, secretsManagerQuotas } from './sm-store.js';
export { secretsManagerRateQuotas } from './sm-throttle.js';

/** Fault injection and state of a running double. */
export interface SecretsManagerFaults {
  /** The next `count` requests (of `operation`, e.g. `PutSecretValue`, or of any) meet `action`. */
  inject(action: FaultAction, options?: { count?: number; operation?: string }): void;
  /** Drops faults not yet used. */
  clear(): void;
  /** Requests that reached the double, of one operation or in all (refused ones too). */
  requestCount(operation?: string): number;
  resetCounts(): void;
  /** Deletes a whole secret behind the client's back (no recovery window). */
  removeSecret(name: string): boolean;
  /** Deletes the version carrying `stage` (e.g. `coffer-v2`) behind the client's back. */
  removeVersion(name: string, stage: string): boolean;
  /** Names of the secrets the double holds, pending deletion included. */
  secretNames(): string[];
  /** A key pair that may only read (GetSecretValue, DescribeSecret, ListSecrets, ListSecretVersionIds). */
  readOnlyCredentials: { accessKeyId: string; secretAccessKey: string };
  /** The account id in the ARNs. */
  accountId: string;
}

/** What every store double of Coffer hands its tests and the benchmark. */
export interface StoreDoubleHandle {
  /** The double's base URL. */
  url: string;
  /** Backend settings (without `type`) that point an instance at this double. */
  settings: Record<string, unknown>;
  /** Environment variables the vendor's credential chain needs to reach the double; the caller sets them in process.env. */
  env: Record<string, string>;
  /** One write through the vendor SDK alone, nothing of Coffer around it (the benchmark's baseline). */
  rawPut(name: string, value: string): Promise<void>;
  /** Fault injection and state, for tests. */
  faults: SecretsManagerFaults;
  close(): Promise<void>;
}

export interface StoreDoubleOptions {
  /** Enforce Secrets Manager's request quotas with ThrottlingException (default true). */
  throttle?: boolean;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** The region the double serves (default `us-east-1`); requests signed for another are refused. */
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/**
 * Starts a local AWS Secrets Manager on 127.0.0.1 that speaks the service's wire protocol, checks
 * SigV4 signatures and the region, and enforces its documented limits and quotas.
 *
 * @example
 * const double = await startStoreDouble();
 * Object.assign(process.env, double.env);
 * const config = { type: 'aws-secrets-manager', ...double.settings };
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const region = options.region ?? 'us-east-1';
  const accountId = '123456789012';
  const main: DoubleCredential = {
    accessKeyId: options.accessKeyId ?? 'AKIACOFFERDOUBLE0001',
    secretAccessKey: options.secretAccessKey ?? 'coffer-double-secret-access-key-0001',
  };
  const readOnly: DoubleCredential = {
    accessKeyId: 'AKIACOFFERREADONLY01',
    secretAccessKey: 'coffer-double-read-only-secret-key-01',
    allow: new Set(['GetSecretValue', 'DescribeSecret', 'ListSecrets', 'ListSecretVersionIds']),
  };
  const credentials = new Map([
    [main.accessKeyId, main],
    [readOnly.accessKeyId, readOnly],
  ]);
  const store = new SecretsManagerStore(region, accountId);
  const plan = new FaultPlan();
  const running = await startSecretsManagerServer({
    store,
    credentials,
    faults: plan,
    throttle: options.throttle ?? true,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const raw = new SecretsManagerClient({
    region,
    endpoint: running.url,
    credentials: { accessKeyId: main.accessKeyId, secretAccessKey: main.secretAccessKey },
    maxAttempts: 1,
  });
  return {
    url: running.url,
    settings: { region, endpoint: running.url },
    env: {
      AWS_ACCESS_KEY_ID: main.accessKeyId,
      AWS_SECRET_ACCESS_KEY: main.secretAccessKey,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    async rawPut(name, value) {
      try {
        await raw.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
        await raw.send(new CreateSecretCommand({ Name: name, SecretString: value }));
      }
    },
    faults: {
      inject: (action, opts) => plan.inject(action, opts),
      clear: () => plan.clear(),
      requestCount: (operation) => plan.requestCount(operation),
      resetCounts: () => plan.resetCounts(),
      removeSecret: (name) => store.removeSecret(name),
      removeVersion: (name, stage) => store.removeVersion(name, stage),
      secretNames: () => store.names(),
      readOnlyCredentials: { accessKeyId: readOnly.accessKeyId, secretAccessKey: readOnly.secretAccessKey },
      accountId,
    },
    async close() {
      raw.destroy();
      await running.close();
    },
  };
}
