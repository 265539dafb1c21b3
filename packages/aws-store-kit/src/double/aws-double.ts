import { type AwsJsonServerOptions, startAwsJsonServer } from './aws-json-server.js';
import { FaultPlan } from './fault-plan.js';
import type { RateQuota } from './quota-throttle.js';
import type { DoubleCredential } from './sigv4-verifier.js';

/**
 * The region, account and keys every AWS double of Coffer serves by default. They are the same
 * for all of them, so one process (the cross-store test, the benchmark) can set one environment
 * and reach each double through its SDK's default credential chain.
 */
export const awsDoubleDefaults = Object.freeze({
  region: 'us-east-1',
  accountId: '123456789012',
  accessKeyId: 'AKIACOFFERDOUBLE0001',
  secretAccessKey: 'coffer-double-secret-access-key-0001',
  /** A second key pair, limited to a service's read operations. */
  readOnlyAccessKeyId: 'AKIACOFFERREADONLY01',
  readOnlySecretAccessKey: 'coffer-double-read-only-secret-key-01',
});

/** Where a double runs and with which keys (each falls back to {@link awsDoubleDefaults}). */
export interface AwsDoubleOptions {
  /**
   * Enforce the service's request quotas with ThrottlingException (default true); or give some
   * operations other quotas (the rest keep the service's), e.g. a low one a test can reach for sure.
   */
  throttle?: boolean | Readonly<Record<string, RateQuota>>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** The region the double serves; requests signed for another are refused. */
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Fault injection and state every AWS double offers its tests. */
export interface AwsDoubleFaults {
  /** The next `count` requests (of `operation`, e.g. `PutParameter`, or of any) meet `action`. */
  inject: FaultPlan['inject'];
  /** Drops faults not yet used. */
  clear(): void;
  /** Requests that reached the double, of one operation or in all (refused ones too). */
  requestCount(operation?: string): number;
  resetCounts(): void;
  /** A key pair that may only call the service's read operations. */
  readOnlyCredentials: { accessKeyId: string; secretAccessKey: string };
  /** The account id in the ARNs. */
  accountId: string;
}

/** What every store double of Coffer hands its tests and the benchmark. */
export interface AwsStoreDoubleHandle<Faults extends AwsDoubleFaults = AwsDoubleFaults> {
  /** The double's base URL. */
  url: string;
  /** Backend settings (without `type`) that point an instance at this double. */
  settings: Record<string, unknown>;
  /** Environment variables the vendor's credential chain needs to reach the double; the caller sets them in process.env. */
  env: Record<string, string>;
  /** One write through the vendor SDK alone, nothing of Coffer around it (the benchmark's baseline). */
  rawPut(name: string, value: string): Promise<void>;
  /** Fault injection and state, for tests. */
  faults: Faults;
  close(): Promise<void>;
}

/** The protocol details of one AWS JSON 1.1 service, for {@link startAwsDouble}. */
export type AwsServiceProtocol = Pick<
  AwsJsonServerOptions,
  'targetPrefix' | 'signingService' | 'quotas' | 'iamPrefix' | 'internalErrorType' | 'handle'
> & {
  /** The operations the read-only key may call. */
  readOnlyOperations: readonly string[];
};

/** A running double's server, before the service adds its own handle around it. */
export interface RunningAwsDouble {
  url: string;
  region: string;
  accountId: string;
  /** The key pair of the main principal (for the raw SDK client of `rawPut`). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  settings: { region: string; endpoint: string };
  env: Record<string, string>;
  /** The fault controls common to every AWS double. */
  faults: AwsDoubleFaults;
  /** Settings for an SDK client of the service that talks to the double directly (`rawPut`). */
  sdkSettings: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  /**
   * The handle tests and the benchmark get: this server with the service's own `rawPut` and
   * fault controls; `release` (closing the raw SDK client) runs before the server closes.
   */
  handle<Faults extends AwsDoubleFaults>(service: {
    rawPut(name: string, value: string): Promise<void>;
    faults: Omit<Faults, keyof AwsDoubleFaults>;
    release?(): void;
  }): AwsStoreDoubleHandle<Faults>;
  close(): Promise<void>;
}

/** The region a double with these options serves. */
export function doubleRegionOf(options: AwsDoubleOptions): string {
  return options.region ?? awsDoubleDefaults.region;
}

/**
 * Starts an AWS JSON 1.1 service double on 127.0.0.1 with the shared test keys (a full one and a
 * read-only one), SigV4 checked, the service's quotas and a fault plan, and says how to reach it.
 *
 * @example
 * const store = new ParameterStore(doubleRegionOf(options), awsDoubleDefaults.accountId);
 * const running = await startAwsDouble({ ...ssmProtocol, handle: (op, input) => store.handle(op, input) }, options);
 */
export async function startAwsDouble(
  protocol: AwsServiceProtocol,
  options: AwsDoubleOptions = {},
): Promise<RunningAwsDouble> {
  const region = doubleRegionOf(options);
  const accountId = awsDoubleDefaults.accountId;
  const main: DoubleCredential = {
    accessKeyId: options.accessKeyId ?? awsDoubleDefaults.accessKeyId,
    secretAccessKey: options.secretAccessKey ?? awsDoubleDefaults.secretAccessKey,
  };
  const readOnly: DoubleCredential = {
    accessKeyId: awsDoubleDefaults.readOnlyAccessKeyId,
    secretAccessKey: awsDoubleDefaults.readOnlySecretAccessKey,
    allow: new Set(protocol.readOnlyOperations),
  };
  const plan = new FaultPlan();
  const { readOnlyOperations: _, quotas, ...service } = protocol;
  const throttle = options.throttle ?? true;
  const running = await startAwsJsonServer({
    ...service,
    quotas: typeof throttle === 'object' ? { ...quotas, ...throttle } : quotas,
    region,
    accountId,
    credentials: new Map([
      [main.accessKeyId, main],
      [readOnly.accessKeyId, readOnly],
    ]),
    faults: plan,
    throttle: throttle !== false,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const credentials = { accessKeyId: main.accessKeyId, secretAccessKey: main.secretAccessKey };
  const settings = { region, endpoint: running.url };
  const env = {
    AWS_ACCESS_KEY_ID: main.accessKeyId,
    AWS_SECRET_ACCESS_KEY: main.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const faults: AwsDoubleFaults = {
    inject: (action, opts) => plan.inject(action, opts),
    clear: () => plan.clear(),
    requestCount: (operation) => plan.requestCount(operation),
    resetCounts: () => plan.resetCounts(),
    readOnlyCredentials: { accessKeyId: readOnly.accessKeyId, secretAccessKey: readOnly.secretAccessKey },
    accountId,
  };
  return {
    url: running.url,
    region,
    accountId,
    credentials,
    settings,
    env,
    faults,
    sdkSettings: { region, endpoint: running.url, credentials, maxAttempts: 1 },
    handle: <Faults extends AwsDoubleFaults>(service: {
      rawPut(name: string, value: string): Promise<void>;
      faults: Omit<Faults, keyof AwsDoubleFaults>;
      release?(): void;
    }): AwsStoreDoubleHandle<Faults> => ({
      url: running.url,
      settings,
      env,
      rawPut: (name, value) => service.rawPut(name, value),
      faults: { ...faults, ...service.faults } as Faults,
      async close() {
        service.release?.();
        await running.close();
      },
    }),
    close: () => running.close(),
  };
}
