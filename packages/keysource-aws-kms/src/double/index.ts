import {
  type AwsDoubleFaults,
  awsDoubleDefaults,
  type RunningAwsDouble,
  startAwsDouble,
} from '@coffer/aws-store-kit/double';
import { KmsStore, kmsRateQuotas } from './kms-store.js';

export { type FaultAction, FaultPlan } from '@coffer/aws-store-kit/double';
export { KmsStore, kmsLimits, kmsRateQuotas } from './kms-store.js';

/** What a key with the usual read-only policy (`kms:Describe*`, `kms:List*`, `kms:Get*`) may call. */
const readOnlyOperations = [
  'DescribeKey',
  'ListKeys',
  'ListAliases',
  'GetKeyRotationStatus',
  'ListKeyRotations',
];

/** The alias of the key a double makes on start, which `settings.keyId` names. */
export const doubleKeyAlias = 'alias/coffer';

/** Fault injection and state of a running KMS double. */
export interface KmsDoubleFaults extends AwsDoubleFaults {
  /** The double's state, to make keys, rotate or delete them behind the client's back. */
  store: KmsStore;
}

/** A running AWS KMS double, in the shape of Coffer's store doubles. */
export interface KmsDoubleHandle {
  /** The double's base URL. */
  url: string;
  /** `keyring` settings (without `source`) that point a key source at this double's key. */
  settings: { keyId: string; region: string; endpoint: string };
  /** The key the double made on start (its ARN), which `settings.keyId`'s alias names. */
  keyArn: string;
  /** Environment variables the AWS credential chain needs to reach the double. */
  env: Record<string, string>;
  /** Fault injection, request counts and state; they start afresh after `start()`. */
  readonly faults: KmsDoubleFaults;
  /** Stops answering (connections are refused), keeping the keys: a KMS outage. */
  stop(): Promise<void>;
  /** Answers again on the same port with the same keys. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface KmsDoubleOptions {
  /** Enforce KMS's request quotas with ThrottlingException (default true). */
  throttle?: boolean;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** The region the double serves (default us-east-1); requests signed for another are refused. */
  region?: string;
}

/**
 * Starts a local AWS KMS on 127.0.0.1 that speaks KMS's wire protocol (AWS JSON 1.1,
 * `X-Amz-Target: TrentService.<Operation>`), checks SigV4 signatures with the shared test keys of
 * Coffer's AWS doubles, and enforces KMS's documented errors, limits and request quotas. It makes
 * one symmetric key with the alias `alias/coffer` on start.
 *
 * @example
 * const kms = await startKmsDouble();
 * Object.assign(process.env, kms.env);
 * const keyring = { source: 'aws-kms', ...kms.settings };
 */
export async function startKmsDouble(options: KmsDoubleOptions = {}): Promise<KmsDoubleHandle> {
  const region = options.region ?? awsDoubleDefaults.region;
  const store = new KmsStore(region, awsDoubleDefaults.accountId);
  const created = store.handle('CreateKey', { Description: 'Coffer keyring (double)' }) as {
    KeyMetadata: { KeyId: string; Arn: string };
  };
  store.handle('CreateAlias', { AliasName: doubleKeyAlias, TargetKeyId: created.KeyMetadata.KeyId });
  let port = options.port;
  let running: RunningAwsDouble | undefined;
  const launch = async () => {
    running = await startAwsDouble(
      {
        targetPrefix: 'TrentService.',
        signingService: 'kms',
        iamPrefix: 'kms',
        quotas: kmsRateQuotas,
        readOnlyOperations,
        handle: (operation, input) => store.handle(operation, input),
      },
      { throttle: options.throttle ?? true, region, ...(port === undefined ? {} : { port }) },
    );
    port = Number(new URL(running.url).port);
  };
  await launch();
  const first = running as unknown as RunningAwsDouble;
  const current = () => {
    if (running === undefined) throw new Error('the KMS double is stopped');
    return running;
  };
  return {
    url: first.url,
    settings: { keyId: doubleKeyAlias, region, endpoint: first.url },
    keyArn: created.KeyMetadata.Arn,
    env: first.env,
    get faults(): KmsDoubleFaults {
      return { ...current().faults, store };
    },
    async stop() {
      const was = running;
      running = undefined;
      await was?.close();
    },
    async start() {
      if (running === undefined) await launch();
    },
    async close() {
      const was = running;
      running = undefined;
      await was?.close();
    },
  };
}
