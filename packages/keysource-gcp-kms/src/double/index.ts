import {
  type DoublePrincipal,
  doublePrincipal,
  doubleProjectNumber,
  ExternalAccountFiles,
  FaultPlan,
} from '@coffer/gcp-kit/double';
import { cloudKmsQuotas, type QuotaLimits, type RecordedAnswer, startCloudKmsServer } from './kms-server.js';
import { CloudKmsStore } from './kms-store.js';

export { type FaultAction, FaultPlan, GoogleApiError, httpStatusOf } from '@coffer/gcp-kit/double';
export {
  cloudKmsQuotas,
  type DoubleRoute,
  doubleRoutes,
  matchRoute,
  type QuotaLimits,
  type RecordedAnswer,
} from './kms-server.js';
export { CloudKmsStore, cloudKmsLimits, type VersionState } from './kms-store.js';

/** The permissions of `roles/cloudkms.cryptoKeyEncrypterDecrypter`, the role Coffer's docs ask for. */
export const encrypterDecrypterPermissions: ReadonlySet<string> = new Set([
  'cloudkms.cryptoKeyVersions.useToEncrypt',
  'cloudkms.cryptoKeyVersions.useToDecrypt',
]);

/** Fault injection and state of a running Cloud KMS double. */
export interface CloudKmsDoubleFaults {
  /** The next `count` requests (of `rpc`, e.g. `Decrypt`, or of any) meet `action`. */
  inject: FaultPlan['inject'];
  clear(): void;
  /** Requests that reached the double, of one RPC or in all (refused ones too). */
  requestCount(rpc?: string): number;
  resetCounts(): void;
  /** The double's state, to rotate, disable or destroy versions behind the client's back. */
  store: CloudKmsStore;
  /**
   * Credential configuration files (external_account) for other principals: one with only
   * `roles/cloudkms.cryptoKeyEncrypterDecrypter`, one the double does not know.
   */
  credentialFiles: { encrypterDecrypter: string; unknownIdentity: string };
  /** Every answer sent so far, when `recordAnswers` was set (tests check them against the discovery document). */
  answers(): readonly RecordedAnswer[];
}

/** A running Cloud KMS double, in the shape of Coffer's KMS doubles. */
export interface CloudKmsDoubleHandle {
  /** The double's base URL. */
  url: string;
  /** `keyring` settings (without `source`) that point a key source at this double's key. */
  settings: { keyName: string; endpoint: string };
  /** The key the double made on start (`projects/.../cryptoKeys/coffer`). */
  keyName: string;
  /** Environment Application Default Credentials need to reach the double; the caller sets it. */
  env: Record<string, string>;
  /** Fault injection, request counts and state; counts go on across `stop()`/`start()`. */
  readonly faults: CloudKmsDoubleFaults;
  /** Stops answering (connections are refused), keeping the keys: a KMS outage. */
  stop(): Promise<void>;
  /** Answers again on the same port with the same keys. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface CloudKmsDoubleOptions {
  /** Enforce Cloud KMS's per-minute request quotas (default true); or give other limits. */
  throttle?: boolean | Partial<QuotaLimits>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  projectId?: string;
  location?: string;
  /** Keep every answer for {@link CloudKmsDoubleFaults.answers} (default false). */
  recordAnswers?: boolean;
}

/**
 * Starts a local Google Cloud KMS on 127.0.0.1: the REST v1 API (key rings, symmetric keys and
 * their versions, `encrypt`/`decrypt` with additional authenticated data and CRC32C checks,
 * `updatePrimaryVersion`, version states) with bearer tokens, the STS token exchange of
 * external-account (workload identity federation) credentials, Google's error shape and the
 * per-minute quotas. It makes the key ring `coffer` with the key `coffer` on start. `env` points
 * Application Default Credentials at it through GOOGLE_APPLICATION_CREDENTIALS, as a real
 * deployment would point them at a workload identity pool.
 *
 * @example
 * const kms = await startCloudKmsDouble({ throttle: false });
 * Object.assign(process.env, kms.env);
 * const keyring = { source: 'gcp-kms', ...kms.settings };
 */
export async function startCloudKmsDouble(
  options: CloudKmsDoubleOptions = {},
): Promise<CloudKmsDoubleHandle> {
  const projectId = options.projectId ?? 'coffer-double';
  const location = options.location ?? 'global';
  const store = new CloudKmsStore(projectId, doubleProjectNumber);
  const parent = `projects/${projectId}/locations/${location}`;
  store.createKeyRing(parent, 'coffer');
  const keyName = String(
    store.createCryptoKey(`${parent}/keyRings/coffer`, 'coffer', {}, false, { intEnums: false }).name,
  );
  const plan = new FaultPlan();
  const main = doublePrincipal('main');
  const encrypterDecrypter = doublePrincipal('encdec', encrypterDecrypterPermissions);
  const answers: RecordedAnswer[] = [];
  const throttle = options.throttle ?? true;
  // Tokens outlive a stop()/start(): an outage of Cloud KMS does not revoke credentials.
  const tokens = new Map<string, DoublePrincipal>();
  let port = options.port;
  let running: Awaited<ReturnType<typeof startCloudKmsServer>> | undefined;
  const launch = async () => {
    running = await startCloudKmsServer({
      store,
      principals: [main, encrypterDecrypter],
      faults: plan,
      tokens,
      quotas: throttle === false ? false : { ...cloudKmsQuotas, ...(throttle === true ? {} : throttle) },
      ...(options.recordAnswers === true ? { record: (a: RecordedAnswer) => answers.push(a) } : {}),
      ...(port === undefined ? {} : { port }),
    });
    port = Number(new URL(running.url).port);
  };
  await launch();
  const url = running!.url;
  const files = new ExternalAccountFiles('coffer-gcp-kms-double-', `${url}/v1/token`);
  const mainFile = files.write('main', main.subjectToken);
  const faults: CloudKmsDoubleFaults = {
    inject: (action, opts) => plan.inject(action, opts),
    clear: () => plan.clear(),
    requestCount: (rpc) => plan.requestCount(rpc),
    resetCounts: () => plan.resetCounts(),
    store,
    credentialFiles: {
      encrypterDecrypter: files.write('encdec', encrypterDecrypter.subjectToken),
      unknownIdentity: files.writeUnknown(),
    },
    answers: () => answers,
  };
  let closed = false;
  return {
    url,
    settings: { keyName, endpoint: url },
    keyName,
    env: { GOOGLE_APPLICATION_CREDENTIALS: mainFile },
    faults,
    async stop() {
      const was = running;
      running = undefined;
      await was?.close();
    },
    async start() {
      if (running === undefined && !closed) await launch();
    },
    async close() {
      closed = true;
      const was = running;
      running = undefined;
      await was?.close();
      files.remove();
    },
  };
}
