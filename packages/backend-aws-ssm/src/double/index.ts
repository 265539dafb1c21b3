import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  type AwsDoubleFaults,
  type AwsDoubleOptions,
  type AwsServiceProtocol,
  type AwsStoreDoubleHandle,
  awsDoubleDefaults,
  doubleRegionOf,
  type RateQuota,
  startAwsDouble,
} from '@coffer/aws-store-kit/double';
import { ParameterStore } from './ssm-store.js';

export { type FaultAction, FaultPlan } from '@coffer/aws-store-kit/double';
export {
  awsManagedSsmKey,
  type DoubleKmsKey,
  doubleKmsKey,
  ParameterStore,
  parameterStoreQuotas,
} from './ssm-store.js';

/**
 * Parameter Store's request quotas per account and region at the default (standard) throughput:
 * GetParameter, GetParameters and GetParametersByPath share 40 transactions a second, PutParameter
 * has 3. The service documents no default for its other operations; the double leaves them be.
 */
export const parameterStoreRateQuotas: Readonly<Record<string, RateQuota>> = Object.freeze({
  GetParameter: { group: 'get', perSecond: 40 },
  GetParameters: { group: 'get', perSecond: 40 },
  GetParametersByPath: { group: 'get', perSecond: 40 },
  PutParameter: { group: 'put', perSecond: 3 },
});

/** What a key with the usual read-only policy (`ssm:Get*`, `ssm:Describe*`, `ssm:List*`) may call. */
const readOnlyOperations = [
  'GetParameter',
  'GetParameters',
  'GetParametersByPath',
  'GetParameterHistory',
  'DescribeParameters',
  'ListTagsForResource',
];

/** Fault injection and state of a running Parameter Store double. */
export interface ParameterStoreFaults extends AwsDoubleFaults {
  /** Deletes a parameter (all its versions) behind the client's back. */
  removeParameter(name: string): boolean;
  /** Replaces a parameter's tags behind the client's back. */
  setTags(name: string, tags: Record<string, string>): boolean;
  /** Names of the parameters the double holds, sorted. */
  parameterNames(): string[];
}

/** What every store double of Coffer hands its tests and the benchmark. */
export type StoreDoubleHandle = AwsStoreDoubleHandle<ParameterStoreFaults>;

export interface StoreDoubleOptions extends AwsDoubleOptions {
  /**
   * Standard parameters the account may hold (default 10,000, the documented quota). `throttle`
   * turns the request quotas off, not this one: it is a limit of what the store keeps.
   */
  standardParameterLimit?: number;
}

const ssmProtocol: Omit<AwsServiceProtocol, 'handle'> = {
  targetPrefix: 'AmazonSSM.',
  signingService: 'ssm',
  quotas: parameterStoreRateQuotas,
  internalErrorType: 'InternalServerError',
  readOnlyOperations,
};

/**
 * Starts a local AWS Systems Manager Parameter Store on 127.0.0.1 that speaks the service's
 * wire protocol (AWS JSON 1.1, `X-Amz-Target: AmazonSSM.<Operation>`), checks SigV4 signatures
 * and the region, and enforces its documented limits and request quotas. It accepts the same
 * test keys and region as the Secrets Manager double.
 *
 * @example
 * const double = await startStoreDouble();
 * Object.assign(process.env, double.env);
 * const config = { type: 'aws-ssm', ...double.settings };
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const store = new ParameterStore(doubleRegionOf(options), awsDoubleDefaults.accountId, {
    ...(options.standardParameterLimit === undefined
      ? {}
      : { standardParameters: options.standardParameterLimit }),
  });
  const running = await startAwsDouble(
    { ...ssmProtocol, handle: (operation, input) => store.handle(operation, input) },
    options,
  );
  const raw = new SSMClient(running.sdkSettings);
  return running.handle<ParameterStoreFaults>({
    async rawPut(name, value) {
      await raw.send(
        new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true }),
      );
    },
    faults: {
      removeParameter: (name) => store.removeParameter(name),
      setTags: (name, tags) => store.setTags(name, tags),
      parameterNames: () => store.names(),
    },
    release: () => raw.destroy(),
  });
}
